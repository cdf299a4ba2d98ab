package homey

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Settings are a Homey account's keys in config.yaml: client_id and
// client_secret for a Homey reached through Athom's cloud, or address and
// api_key for a Homey Pro on the local network.
type Settings struct {
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret"`
	// RefreshToken seeds the token store; `auth login` stores one too.
	RefreshToken string `mapstructure:"refresh_token"`
	// HomeyID picks the Homey when the athom user has several.
	HomeyID string `mapstructure:"homey_id"`
	// CloudURL is Athom's API, default DefaultCloudURL (cloud mode only).
	CloudURL string `mapstructure:"cloud_url"`
	// SessionLifetime: the Homey session is renewed before this.
	SessionLifetime time.Duration `mapstructure:"session_lifetime"`
	// Address and APIKey reach a Homey Pro on the local network.
	Address string `mapstructure:"address"`
	APIKey  string `mapstructure:"api_key"`
	// PollInterval is how often state is re-read when no realtime socket
	// can be had.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// secretKeys are the Settings keys never shown.
var secretKeys = []string{"client_secret", "refresh_token", "api_key"}

// local tells whether the settings reach a Homey on the local network.
func (s *Settings) local() bool { return s.Address != "" || s.APIKey != "" }

// ApplyDefaults fills the cloud URL of a cloud account
// (cloud.Defaulter).
func (s *Settings) ApplyDefaults() {
	if !s.local() && s.CloudURL == "" {
		s.CloudURL = DefaultCloudURL
	}
}

// Validate implements cloud.Settings.
func (s *Settings) Validate(p, account string) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case s.local():
		if s.Address == "" || s.APIKey == "" {
			add("%s.address and %s.api_key: a Homey Pro on the local network needs both: its address (http://192.168.1.50) and an API key from the Homey web app (Settings → API Keys)", p, p)
		}
		if s.ClientID != "" || s.RefreshToken != "" {
			add("%s: set either address + api_key (local) or client_id + client_secret (Athom cloud), not both", p)
		}
		if s.Address != "" {
			errs = append(errs, cloud.CheckHTTPURL(p+".address", s.Address, "http://192.168.1.50"))
		}
	case s.ClientID == "":
		add("%s: a homey account needs client_id + client_secret (Athom cloud, then `cloud2mqtt auth login %s`) or address + api_key (Homey Pro on the local network)", p, account)
	}
	if s.CloudURL != "" {
		errs = append(errs, cloud.CheckHTTPURL(p+".cloud_url", s.CloudURL, DefaultCloudURL))
	}
	if s.SessionLifetime < 0 || s.PollInterval < 0 {
		add("%s.session_lifetime and %s.poll_interval: must not be negative: use a duration such as 24h or 10s", p, p)
	}
	return errors.Join(errs...)
}

// config is the client configuration of these settings.
func (s *Settings) config(env cloud.Env) Config {
	c := Config{
		Account: env.Account, ClientID: s.ClientID, ClientSecret: s.ClientSecret, RefreshToken: s.RefreshToken,
		HomeyID: s.HomeyID, SessionLifetime: s.SessionLifetime, Address: s.Address, APIKey: s.APIKey,
		PollInterval: s.PollInterval, Tokens: env.Tokens, Logger: env.Logger, HTTPClient: env.HTTPClient,
	}
	if !s.local() {
		c.CloudURL = s.CloudURL
	}
	return c
}
