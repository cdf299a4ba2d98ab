package auth_test

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

const pageCallback = "http://127.0.0.1:8099/callback"

func TestFlowsCompleteALogin(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	f := auth.NewFlows(0, nil)
	authURL := f.Start(e.client, pageCallback)
	if f.Pending() != 1 {
		t.Fatalf("pending = %d, want 1", f.Pending())
	}
	back := redirectOf(t, authURL)
	if back.Scheme+"://"+back.Host+back.Path != pageCallback {
		t.Fatalf("redirected to %s, want %s", back, pageCallback)
	}
	account, err := f.Callback(testCtx(t), httptest.NewRequest("GET", back.String(), nil))
	if err != nil || account != "wink" {
		t.Fatalf("callback: %q, %v", account, err)
	}
	if tok, ok, _ := e.store.Load("wink"); !ok || tok.AccessToken == "" {
		t.Fatal("no token stored")
	}
	// The state was single-use.
	_, err = f.Callback(testCtx(t), httptest.NewRequest("GET", back.String(), nil))
	var se *auth.StateError
	if !errors.As(err, &se) {
		t.Errorf("replayed callback: %v, want a state error", err)
	}
}

func TestFlowsRefuseForgedAndExpiredStates(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	f := auth.NewFlows(0, nil)
	f.Start(e.client, pageCallback)
	forged := pageCallback + "?" + url.Values{"code": {e.srv.NewAuthorizationCode()}, "state": {"forged"}}.Encode()
	_, err := f.Callback(testCtx(t), httptest.NewRequest("GET", forged, nil))
	var se *auth.StateError
	if !errors.As(err, &se) {
		t.Fatalf("forged callback: %v, want a state error", err)
	}
	if cause, _ := auth.Explain(err); cause == "" || cause[:14] != "state mismatch" {
		t.Errorf("cause = %q", cause)
	}
	if _, ok, _ := e.store.Load("wink"); ok {
		t.Error("a forged callback stored a token")
	}

	short := auth.NewFlows(time.Nanosecond, nil)
	back := redirectOf(t, short.Start(e.client, pageCallback))
	if _, err := short.Callback(testCtx(t), httptest.NewRequest("GET", back.String(), nil)); !errors.As(err, &se) {
		t.Errorf("expired state: %v, want a state error", err)
	}
}

func TestFlowsReportDenial(t *testing.T) {
	e := newEnv(t, winktest.Options{}, "")
	e.srv.DenyNextAuthorization()
	f := auth.NewFlows(0, nil)
	back := redirectOf(t, f.Start(e.client, pageCallback))
	account, err := f.Callback(testCtx(t), httptest.NewRequest("GET", back.String(), nil))
	if account != "wink" {
		t.Errorf("account = %q", account)
	}
	if cause, _ := auth.Explain(err); cause != "the user denied access on the authorization page" {
		t.Errorf("cause = %q", cause)
	}
}
