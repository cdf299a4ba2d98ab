package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Report is the result of checking one account's credentials.
type Report = cloud.CredentialReport

// WriteReports prints one block per account: a status line, then who the
// token belongs to, its expiry, the details and, on failure, the cause and
// the fix.
func WriteReports(w io.Writer, rs []Report) {
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		status := "OK"
		if !r.OK {
			status = "FAILED"
		}
		name := r.Account
		if r.Cloud != "" {
			name += " (" + r.Cloud + ")"
		}
		fmt.Fprintf(w, "%s: %s\n", name, status)
		line := func(k, v string) {
			if v != "" {
				fmt.Fprintf(w, "  %-9s %s\n", k+":", v)
			}
		}
		line("user", r.Username)
		line("subject", r.Subject)
		line("email", r.Email)
		if !r.Expiry.IsZero() {
			left := time.Until(r.Expiry).Round(time.Minute)
			when := fmt.Sprintf("%s (in %s)", r.Expiry.Local().Format(time.RFC3339), left)
			if left < 0 {
				when = fmt.Sprintf("%s (%s ago, expired)", r.Expiry.Local().Format(time.RFC3339), -left)
			}
			line("expires", when)
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "  - %s\n", d)
		}
		line("cause", r.Cause)
		line("fix", r.Fix)
	}
}

// Failed reports whether any report failed (the check's exit status).
func Failed(rs []Report) bool {
	for _, r := range rs {
		if !r.OK {
			return true
		}
	}
	return false
}

// MaskEmail keeps an address recognisable without showing it whole:
// "jane@example.com" becomes "j***@example.com". Text without "@" is
// masked after its first character.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, ok := strings.Cut(email, "@")
	r := []rune(local)
	if len(r) == 0 {
		return "***@" + domain
	}
	if !ok {
		return string(r[0]) + "***"
	}
	return string(r[0]) + "***@" + domain
}

// Claims are the JWT claims `auth check` shows. The token's signature is
// not verified: the claims are only read to explain a failure.
type Claims struct {
	Expiry            time.Time // exp
	IssuedAt          time.Time // iat
	AuthorizedParty   string    // azp: the client the token was issued to
	Subject           string    // sub: the user's id
	PreferredUsername string    // preferred_username
}

// ParseClaims decodes the payload of a JWT-shaped access token. It returns
// false when token is not a JWT (many clouds issue opaque tokens).
func ParseClaims(token string) (Claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, false
	}
	var c struct {
		Exp, Iat          json.Number
		Azp, Sub          string
		PreferredUsername string `json:"preferred_username"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, false
	}
	unix := func(n json.Number) time.Time {
		if f, err := n.Float64(); err == nil && f > 0 {
			return time.Unix(int64(f), 0)
		}
		return time.Time{}
	}
	return Claims{Expiry: unix(c.Exp), IssuedAt: unix(c.Iat), AuthorizedParty: c.Azp, Subject: c.Sub, PreferredUsername: c.PreferredUsername}, true
}
