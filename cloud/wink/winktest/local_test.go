package winktest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestHubLocalControl(t *testing.T) {
	s := newTestServer(t, Options{})
	s.Furnish()
	_, refresh := s.IssueTokens()
	hub, _ := s.Device("hub", HubID)
	grant := func(id string) answer {
		return call(t, "POST", s.URL+"/oauth2/token", "", map[string]any{"grant_type": "refresh_token", "client_id": "winktest-client",
			"client_secret": "winktest-secret", "refresh_token": refresh, "scope": "local_control", "local_control_id": id})
	}
	a := grant(str(reading(hub)["local_control_id"]))
	local, _ := a.body["access_token"].(string)
	if a.status != http.StatusCreated || local == "" || a.body["refresh_token"] != refresh {
		t.Fatalf("local_control grant: %d %s; want a local token and the same refresh token", a.status, a.raw)
	}
	if a := grant(str(reading(hub)["local_control_id"])); a.status != http.StatusCreated {
		t.Errorf("the refresh token rotated on the local grant: %d %s", a.status, a.raw)
	}
	if a := grant("not-a-hub"); a.status != http.StatusBadRequest {
		t.Errorf("unknown local_control_id: %d, want 400", a.status)
	}

	// The hub's certificate is self-signed: the test pins it.
	pool := x509.NewCertPool()
	pool.AddCert(s.HubCertificate())
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	put := func(token, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("PUT", s.HubLocalURL()+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	status, out := put(local, "/light_bulbs/29", map[string]any{"desired_state": map[string]any{"powered": true}})
	if lr := asMap(asMap(out["data"])["last_reading"]); status != http.StatusOK || lr["powered"] != true {
		t.Fatalf("local PUT: %d %v", status, out)
	}
	if d, _ := s.Device("light_bulb", "2194253"); reading(d)["powered"] != true {
		t.Errorf("the local change did not reach the device")
	}
	if status, _ := put("wrong", "/light_bulbs/29", map[string]any{"desired_state": map[string]any{"powered": false}}); status != http.StatusUnauthorized {
		t.Errorf("wrong local token: %d, want 401", status)
	}
	if status, _ := put(local, "/light_bulbs/999", map[string]any{"desired_state": map[string]any{"powered": false}}); status != http.StatusNotFound {
		t.Errorf("unknown local_id: %d, want 404", status)
	}
}
