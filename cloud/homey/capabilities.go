package homey

import (
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// The capabilities the Homey client has beside cloud.Provider.
var (
	_ cloud.Loginer           = (*Client)(nil)
	_ cloud.CredentialChecker = (*Client)(nil)
	_ cloud.CredentialExpirer = (*Client)(nil)
	_ cloud.CredentialNoter   = (*Client)(nil)
	_ cloud.PathReporter      = (*Client)(nil)
)

// CredentialExpiry is when the Homey session ends (it is renewed before);
// zero for an API key, which does not end (cloud.CredentialExpirer).
func (c *Client) CredentialExpiry() time.Time {
	if c.local {
		return time.Time{}
	}
	s := c.sess
	s.mu.Lock()
	expiry := s.expiry
	s.mu.Unlock()
	if expiry.IsZero() {
		if t := c.storedSession(); t != nil {
			return t.Expiry
		}
	}
	return expiry
}

// CredentialNote explains a zero expiry (cloud.CredentialNoter).
func (c *Client) CredentialNote() string {
	switch {
	case c.local:
		return "an API key does not expire"
	case c.CredentialExpiry().IsZero():
		return "no Homey session yet"
	}
	return ""
}
