package bridge

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

func frontDoor() cloud.Device {
	return cloud.Device{ID: "lock-1", Class: cloud.ClassLock,
		Fields: []cloud.Field{{Name: cloud.FieldLocked, Kind: cloud.KindBool, Writable: true}},
		State:  map[string]any{"locked": true}}
}

func TestLockObeysOnlyLockWords(t *testing.T) {
	d := frontDoor()
	keys := deviceKeys(&d)
	ok := map[[2]string]cloud.Change{
		{"", "LOCK"}:                      {"locked": true},
		{"", "unlock"}:                    {"locked": false},
		{"", `"LOCKED"`}:                  {"locked": true},
		{"", `{"state":"UNLOCKED"}`}:      {"locked": false},
		{"state", "UNLOCK"}:               {"locked": false},
		{"", `{"locked":true}`}:           {"locked": true},
		{"", `{"locked":false}`}:          {"locked": false},
		{"locked", "false"}:               {"locked": false},
		{"locked", "true"}:                {"locked": true},
		{"", `{"state":"LOCK","x":null}`}: nil, // unknown field: rejected below
	}
	for in, want := range ok {
		got, err := parseCommand(&d, keys, in[0], []byte(in[1]))
		if want == nil {
			if err == nil {
				t.Errorf("%s %s accepted", in[0], in[1])
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s = %v, %v; want %v", in[0], in[1], got, err, want)
		}
	}
	for _, in := range [][2]string{
		{"", "0"}, {"", "-0"}, {"", "1"}, {"", "OFF"}, {"", "ON"}, {"", "false"}, {"", "true"},
		{"", `{"state":0}`}, {"", `{"state":false}`}, {"", `{"state":"OFF"}`}, {"state", "-0"},
		{"", `{"locked":0}`}, {"", `{"locked":"-0"}`}, {"locked", "OFF"}, {"locked", "0"},
	} {
		got, err := parseCommand(&d, keys, in[0], []byte(in[1]))
		if err == nil {
			t.Errorf("lock %s %s accepted as %v, want it rejected", in[0], in[1], got)
			continue
		}
		if f := fieldOf(err); f != "state" && f != "locked" {
			t.Errorf("lock %s %s: error %q names field %q, want state or locked", in[0], in[1], err, f)
		}
	}
}

func TestNumbersNormalisedOrRejected(t *testing.T) {
	d := colorBulb()
	keys := deviceKeys(&d)
	for payload, want := range map[string]cloud.Change{
		`{"brightness":-0}`:     {"brightness": 0.0},
		`{"brightness":"-0"}`:   {"brightness": 0.0},
		`{"brightness":-0e5}`:   {"brightness": 0.0},
		`{"brightness":2.55E2}`: {"brightness": 1.0},
	} {
		got, err := parseCommand(&d, keys, "", []byte(payload))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, %v; want %v", payload, got, err, want)
			continue
		}
		if b := got["brightness"].(float64); b == 0 && 1/b < 0 {
			t.Errorf("%s kept the sign of -0", payload)
		}
	}
	for _, c := range []struct{ field, payload, wantField, wantText string }{
		{"", `{"brightness":"051"}`, "brightness", "leading zero"},
		{"brightness", `051`, "brightness", "leading zero"},
		{"brightness", `-007`, "brightness", "leading zero"},
		{"", `{"brightness":05}`, "", "not valid JSON"},
		{"", `{"brightness":5e-324}`, "brightness", "too close to zero"},
		{"brightness", `"2.2e-310"`, "brightness", "too close to zero"},
		{"", `{"color":{"h":1e-320,"s":5}}`, "color.h", "too close to zero"},
		{"brightness", `0x10`, "brightness", "expected a number"},
		{"brightness", `Inf`, "brightness", "expected a number"},
		{"brightness", `1_0`, "brightness", "expected a number"},
		{"", `{"state":"ON","state":"OFF"}`, "state", "appears twice"},
		{"", `{"brightness":1,"color":{"h":1,"h":2,"s":3}}`, "color.h", "appears twice"},
		{"color", `{"h":1,"s":2,"s":3}`, "color", "color.s appears twice"},
		{"", `-0`, "state", "expected ON, OFF"},
	} {
		_, err := parseCommand(&d, keys, c.field, []byte(c.payload))
		if err == nil {
			t.Errorf("%s %s accepted, want an error", c.field, c.payload)
			continue
		}
		if fieldOf(err) != c.wantField || !strings.Contains(err.Error(), c.wantText) {
			t.Errorf("%s %s: error %q (field %q), want field %q and %q", c.field, c.payload, err, fieldOf(err), c.wantField, c.wantText)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,"b":2}`:             "",
		`{"a":1,"a":2}`:             "a",
		`{"a":{"b":1},"c":{"b":2}}`: "",
		`{"a":[{"b":1,"b":2}]}`:     "a.b",
		`{"a":1,`:                   "",
		`[1,2]`:                     "",
	} {
		got, found := duplicateKey([]byte(in))
		if got != want || found != (want != "") {
			t.Errorf("duplicateKey(%s) = %q, %t; want %q", in, got, found, want)
		}
	}
}

func TestAuthRequiredAccountDoesNotShowLivePush(t *testing.T) {
	for _, c := range []struct {
		status string
		push   cloud.PushState
		want   string
	}{
		{StatusConnected, cloud.PushLive, "live"},
		{StatusAuthRequired, cloud.PushLive, PushOff},
		{StatusAuthRequired, cloud.PushPolling, "polling"},
		{StatusError, cloud.PushPolling, "polling"},
	} {
		if got := shownPush(&account{status: c.status, push: c.push}); got != c.want {
			t.Errorf("%s with push %s shows %q, want %q", c.status, c.push, got, c.want)
		}
	}
}
