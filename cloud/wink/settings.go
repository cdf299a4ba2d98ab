package wink

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// Settings are a Wink account's keys in config.yaml.
type Settings struct {
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret"`
	// RefreshToken seeds the token store; `auth login` stores one too.
	RefreshToken string `mapstructure:"refresh_token"`
	// Email and Password are the legacy password grant, or what TokenURL
	// takes.
	Email    string `mapstructure:"email"`
	Password string `mapstructure:"password"`
	// TokenURL is a token service that takes email and password and
	// answers an access token (and maybe a refresh token): the "email and
	// password" sign-in of Home Assistant's Wink integration, which needs
	// no client id or secret.
	TokenURL string `mapstructure:"token_url"`
	// AccessToken is a bare access token, used while the token store holds
	// no usable token and until it expires.
	AccessToken string `mapstructure:"access_token"`
	// APIURL is Wink's REST endpoint, default DefaultAPIURL.
	APIURL string `mapstructure:"api_url"`
	// PubNubOrigin overrides the PubNub origin: "host[:port]" (TLS) or
	// "http://host:port" (plain HTTP, for the emulator).
	PubNubOrigin string `mapstructure:"pubnub_origin"`
	// VerifyURL is Wink Login's verify-client endpoint, used by auth check.
	VerifyURL string `mapstructure:"verify_url"`
	// LocalControl is auto (the hub on the LAN first, the cloud when it
	// fails; the default), off or only.
	LocalControl string `mapstructure:"local_control"`
	// LocalURL overrides the hubs' local address https://<ip_address>:8888.
	LocalURL string `mapstructure:"local_url"`
}

// secretKeys are the Settings keys never shown.
var secretKeys = []string{"client_secret", "refresh_token", "password", "access_token"}

// Validate implements cloud.Settings.
func (s *Settings) Validate(p, account string) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case s.TokenURL != "":
		errs = append(errs, cloud.CheckSecretURL(p+".token_url", s.TokenURL))
		if s.Email == "" || s.Password == "" {
			add("%s.token_url: needs %s.email and %s.password, which the token service takes", p, p, p)
		}
	case s.ClientID == "" && s.AccessToken == "":
		add("%s.client_id: is missing for a wink account: either set client_id and client_secret from the Wink developer portal (or %s) and log in, "+
			"or, without them, set %s.token_url with %s.email and %s.password (a token service), or %s.access_token", p, cloud.EnvHint(account, "client_id"), p, p, p, p)
	}
	if (s.Email == "") != (s.Password == "") {
		add("%s.email and %s.password: set both for the password login, or neither", p, p)
	}
	if s.APIURL != "" {
		errs = append(errs, cloud.CheckHTTPURL(p+".api_url", s.APIURL, DefaultAPIURL))
	}
	if s.VerifyURL != "" {
		errs = append(errs, cloud.CheckSecretURL(p+".verify_url", s.VerifyURL))
	}
	switch s.LocalControl {
	case "", LocalAuto, LocalOff, LocalOnly:
	default:
		add("%s.local_control: %q is not a mode: use auto (the hub first, then the cloud), off or only", p, s.LocalControl)
	}
	if s.LocalURL != "" {
		if u, err := url.Parse(s.LocalURL); err != nil || u.Scheme != "https" || u.Host == "" {
			add("%s.local_url: %q must be https://host:port (the hub's local API)", p, cloud.RedactURL(s.LocalURL))
		}
	}
	if s.PubNubOrigin != "" {
		if err := checkOrigin(s.PubNubOrigin); err != nil {
			add("%s.pubnub_origin: %v", p, err)
		}
	}
	return errors.Join(errs...)
}

// checkOrigin accepts "host[:port]" or "http(s)://host[:port]".
func checkOrigin(o string) error {
	const fix = `use "host[:port]" for TLS or "http://host:port" for plain HTTP`
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			return fmt.Errorf("%q is not a valid origin: %s", cloud.RedactURL(o), fix)
		}
		return nil
	}
	if strings.ContainsAny(o, "/@ ") {
		return fmt.Errorf("%q is not a valid origin: %s", o, fix)
	}
	if strings.Contains(o, ":") {
		h, port, err := net.SplitHostPort(o)
		if err != nil || h == "" || port == "" {
			return fmt.Errorf("%q is not a valid origin: %s", o, fix)
		}
	}
	return nil
}

// config is the client configuration of these settings.
func (s *Settings) config(env cloud.Env) Config {
	return Config{
		Account: env.Account, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		RefreshToken: s.RefreshToken, Email: s.Email, Password: s.Password,
		TokenURL: s.TokenURL, AccessToken: s.AccessToken,
		LocalControl: s.localControl(), LocalURL: s.LocalURL,
		APIURL: s.APIURL, PubNubOrigin: s.PubNubOrigin, VerifyURL: s.VerifyURL,
		Tokens: env.Tokens, Logger: env.Logger, HTTPClient: env.HTTPClient,
	}
}

// localControl is the account's local control mode, auto when unset.
func (s *Settings) localControl() string {
	if s.LocalControl == "" {
		return LocalAuto
	}
	return s.LocalControl
}
