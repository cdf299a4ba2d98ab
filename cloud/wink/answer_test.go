package wink

import (
	"reflect"
	"testing"
)

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
		fast, fastErr := decodeAnswer([]byte(answer), true)
		slow, slowErr := decodeAnswer([]byte(answer), false)
		if (fastErr == nil) != (slowErr == nil) || fastErr != nil && fastErr.Error() != slowErr.Error() {
			t.Errorf("%s: error %v, want %v", answer, fastErr, slowErr)
			continue
		}
		if fastErr != nil {
			continue
		}
		fd, fe := fast.devices()
		sd, se := slow.devices()
		if (fe == nil) != (se == nil) || fe != nil && fe.Error() != se.Error() || !reflect.DeepEqual(fd, sd) {
			t.Errorf("%s: devices %v, %v; want %v, %v", answer, fd, fe, sd, se)
		}
		if !reflect.DeepEqual(fast.Errors, slow.Errors) || !reflect.DeepEqual(fast.Subscription, slow.Subscription) {
			t.Errorf("%s: errors %v subscription %v; want %v, %v", answer, fast.Errors, fast.Subscription, slow.Errors, slow.Subscription)
		}
	}
}
