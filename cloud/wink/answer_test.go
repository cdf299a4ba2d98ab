package wink

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
	"github.com/cloud2mqtt/cloud2mqtt/internal/jsonobj"
)

// decodeBoth decodes answer in shape and as any, and checks that both give
// the same error and envelope; ok reports that there is more to compare.
func decodeBoth(t *testing.T, answer string, shape answerShape) (fast, slow *envelope, ok bool) {
	t.Helper()
	var keys jsonobj.Keys
	fast, fastErr := decodeAnswer([]byte(answer), shape, &keys)
	slow, slowErr := decodeAnswer([]byte(answer), answerAny, &keys)
	if (fastErr == nil) != (slowErr == nil) || fastErr != nil && fastErr.Error() != slowErr.Error() {
		t.Errorf("%s: error %v, want %v", answer, fastErr, slowErr)
		return nil, nil, false
	}
	if fastErr != nil {
		return nil, nil, false
	}
	if !reflect.DeepEqual(fast.Errors, slow.Errors) || !reflect.DeepEqual(fast.Subscription, slow.Subscription) {
		t.Errorf("%s: errors %v subscription %v; want %v, %v", answer, fast.Errors, fast.Subscription, slow.Errors, slow.Subscription)
	}
	return fast, slow, true
}

// An answer decoded in one pass gives what decoding the envelope and then
// its data gives, errors included.
func TestAnswerInOnePassIsTheEnvelopeDecoded(t *testing.T) {
	bulb := `{"object_type":"light_bulb","object_id":"1","name":"Lamp","last_reading":{"connection":true,"powered":true,"brightness":0.5}}`
	for _, answer := range []string{
		`{"data":` + bulb + `,"errors":[],"pagination":{}}`,
		`{"data":` + bulb + `,"subscription":{"pubnub":{"channel":"c"}}}`,
		`{"Data":` + bulb + `}`,
		`{"data":{"object_type":"light_bulb"},"DATA":` + bulb + `}`,
		`{"data":` + bulb + `,"errors":"nope"}`,
		`{"data":` + bulb + `,"subscription":[]}`,
		`{"data":null}`,
		`{"data":[` + bulb + `]}`,
		`{"data":` + bulb + `,"data":[]}`,
		`[` + bulb + `]`,
		`{"data":` + bulb,
		`{"data":{"object_type":"light_bulb","object_id":"1","name":"L\u00e4mp","last_reading":{}}}`,
	} {
		fast, slow, ok := decodeBoth(t, answer, answerObject)
		if !ok {
			continue
		}
		fd, fe := fast.devices()
		sd, se := slow.devices()
		if (fe == nil) != (se == nil) || fe != nil && fe.Error() != se.Error() || !reflect.DeepEqual(fd, sd) {
			t.Errorf("%s: devices %v, %v; want %v, %v", answer, fd, fe, sd, se)
		}
	}
}

// A list answer decoded in one pass gives the objects (and the reasons an
// element is none) that decoding the envelope and then its list gives.
func TestListAnswerInOnePassIsTheEnvelopeDecoded(t *testing.T) {
	bulb := `{"object_type":"light_bulb","object_id":"1","name":"Lamp","last_reading":{"connection":true,"powered":true}}`
	lock := `{"object_type":"lock","object_id":"2","name":"Door","last_reading":{"locked":true,"n":12345678901234567890}}`
	for _, answer := range []string{
		`{"data":[` + bulb + `,` + lock + `],"errors":[],"pagination":{"count":2},"subscription":{"pubnub":{"channel":"u"}}}`,
		`{"data":[]}`,
		`{"data":[` + bulb + `,null,5,"x",[1],true,` + lock + `]}`,
		`{"Data":[` + bulb + `]}`,
		`{"data":[` + bulb + `],"errors":"nope"}`,
		`{"data":` + bulb + `}`,
		`{"data":null}`,
		`{"data":[{"object_type":"light_bulb","object_id":"1","name":"L\u00e4mp"}]}`,
		`{"data":[` + bulb,
	} {
		fast, slow, ok := decodeBoth(t, answer, answerList)
		if !ok {
			continue
		}
		fo, fe, ferr := fast.objects()
		so, se, serr := slow.objects()
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() || !reflect.DeepEqual(fo, so) {
			t.Errorf("%s: objects %v, %v; want %v, %v", answer, fo, ferr, so, serr)
		}
		if fmt.Sprint(fe) != fmt.Sprint(se) {
			t.Errorf("%s: element errors %v, want %v", answer, fe, se)
		}
	}
}

// BenchmarkListAnswer decodes a 1,000-device listing as a listing does
// (answerList) and as it did before (answerAny), objects included.
func BenchmarkListAnswer(b *testing.B) {
	body, _ := generatedListing(b, 1000)
	for _, c := range []struct {
		name  string
		shape answerShape
	}{{"one-pass", answerList}, {"envelope-then-list", answerAny}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for range b.N {
				env, err := decodeAnswer(body, c.shape, &jsonobj.Keys{})
				if err != nil {
					b.Fatal(err)
				}
				if objs, _, err := env.objects(); err != nil || len(objs) != 1000 {
					b.Fatalf("%d objects, %v", len(objs), err)
				}
			}
		})
	}
}

// BenchmarkListingDevices turns a 1,000-device listing answer into the
// devices a first listing hands to the bridge, as listFull does after the
// request: the answer decoded, each object decoded into its devices and
// remembered. It reports the bytes and allocations per device, which a
// 10,000-device start pays ten times over.
func BenchmarkListingDevices(b *testing.B) {
	const n = 1000
	body, srv := generatedListing(b, n)
	c, err := New(Config{Account: "big", AccessToken: "unused", APIURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		env, err := decodeAnswer(body, answerList, &c.keys)
		if err != nil {
			b.Fatal(err)
		}
		l := &listing{user: env.Subscription}
		known := make(map[string]decoded, len(env.list))
		if _, err := c.addObjects("device", env, l, known); err != nil || len(l.devices) != n {
			b.Fatalf("%d devices, %v", len(l.devices), err)
		}
	}
	per := float64(b.N) * n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/device")
}

// generatedListing is the answer of an emulated account of n generated
// devices to /users/me/wink_devices, and the emulator (closed at the end
// of b).
func generatedListing(b *testing.B, n int) ([]byte, *winktest.Server) {
	b.Helper()
	srv := winktest.NewServer(winktest.Options{})
	b.Cleanup(srv.Close)
	srv.FurnishGenerated(n, "big")
	access, _ := srv.IssueTokens()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/me/wink_devices", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body, srv
}
