package auth_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/auth"
	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"golang.org/x/oauth2"
)

func TestExplainNamesEachCause(t *testing.T) {
	cases := []struct {
		err        error
		cause, fix string
	}{
		{&cloud.AuthError{Cloud: "c", Account: "w", Code: "invalid_grant", OAuth: true, Reason: "no password grant", Cause: "the cloud's own cause", Fix: "the cloud's own fix"},
			"the cloud's own cause", "the cloud's own fix"},
		{&auth.ExchangeError{Account: "w", Err: &cloud.AuthError{Cloud: "c", Account: "w", Code: "invalid_grant", OAuth: true}},
			"code reused or expired", "cloud2mqtt auth login w"},
		{fmt.Errorf("c: list devices: %w", &cloud.AuthError{Cloud: "c", Account: "w", Code: "invalid_grant", OAuth: true}),
			"revoked or expired refresh token", "cloud2mqtt auth login w"},
		{&cloud.AuthError{Cloud: "c", Account: "w", Code: cloud.CodeNoCredentials}, "credentials rejected", "cloud2mqtt auth login w"},
		{&oauth2.RetrieveError{ErrorCode: "invalid_client"}, "wrong client secret", "accounts[].client_secret"},
		{errors.New("homey: account h: credentials rejected (invalid_grant: the refresh token was rejected)"), "revoked or expired refresh token", "auth login"},
		{&auth.CallbackError{Account: "w", Code: "access_denied"}, "denied", "allow access"},
		{&auth.CallbackError{Account: "w", Code: "redirect_uri_mismatch", Description: "bad redirect"}, "redirect URI mismatch", "redirect URI"},
		{&auth.StateError{}, "state mismatch", "newest URL"},
		{fmt.Errorf("GET /users/me: dial tcp 127.0.0.1:1: connect: connection refused"), "cloud unreachable", "api_url"},
		{fmt.Errorf("x: %w", cloud.ErrAuth), "credentials rejected", "auth login"},
	}
	for _, tc := range cases {
		cause, fix := auth.Explain(tc.err)
		if !strings.Contains(cause, tc.cause) || !strings.Contains(fix, tc.fix) {
			t.Errorf("Explain(%v) = %q / %q; want %q / %q", tc.err, cause, fix, tc.cause, tc.fix)
		}
	}
	if c, f := auth.ExplainFor("acc", fmt.Errorf("x: %w", cloud.ErrAuth)); c == "" || !strings.HasSuffix(f, "auth login acc") {
		t.Errorf("ExplainFor: %q / %q", c, f)
	}
	if c, f := auth.Explain(nil); c != "" || f != "" {
		t.Errorf("Explain(nil) = %q / %q", c, f)
	}
}

func TestWriteReports(t *testing.T) {
	var b bytes.Buffer
	exp := time.Now().Add(2 * time.Hour)
	auth.WriteReports(&b, []auth.Report{
		{Account: "wink", Cloud: "wink", OK: true, Subject: "230781", Username: "d***@example.com", Email: "d***@example.com", Expiry: exp, Details: []string{"winkTag: demo"}},
		{Account: "homey", Cloud: "homey", Cause: "wrong client secret", Fix: "copy it again"},
	})
	out := b.String()
	for _, want := range []string{"wink (wink): OK", "subject:  230781", "email:    d***@example.com", "(in 2h0m0s)", "- winkTag: demo",
		"\n\nhomey (homey): FAILED", "cause:    wrong client secret", "fix:      copy it again"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !auth.Failed([]auth.Report{{OK: true}, {}}) || auth.Failed([]auth.Report{{OK: true}}) {
		t.Error("Failed is wrong")
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"jane@example.com": "j***@example.com", "": "", "x": "x***", "@d.com": "***@d.com", "émile@x.fr": "é***@x.fr"} {
		if got := auth.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseClaims(t *testing.T) {
	// {"exp":2000000000,"iat":1999996400,"azp":"c","sub":"u1","preferred_username":"a@b.c"}
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDAsImlhdCI6MTk5OTk5NjQwMCwiYXpwIjoiYyIsInN1YiI6InUxIiwicHJlZmVycmVkX3VzZXJuYW1lIjoiYUBiLmMifQ.sig"
	c, ok := auth.ParseClaims(tok)
	if !ok || c.AuthorizedParty != "c" || c.Subject != "u1" || c.PreferredUsername != "a@b.c" || c.Expiry.Unix() != 2000000000 || c.IssuedAt.Unix() != 1999996400 {
		t.Errorf("claims = %+v, %v", c, ok)
	}
	if _, ok := auth.ParseClaims("opaque-token"); ok {
		t.Error("an opaque token parsed as a JWT")
	}
}
