package wink

import (
	"fmt"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/wink/winktest"
)

// CloudName is the value of accounts[].cloud for Wink.
const CloudName = "wink"

// Register adds Wink to r: its settings, its client and its emulator.
func Register(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     CloudName,
		Settings: func() cloud.Settings { return &Settings{APIURL: DefaultAPIURL} },
		Secrets:  secretKeys,
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			return New(s.(*Settings).config(env))
		},
		Emulate: emulate,
	})
}

// emulate starts the Wink emulator with the demo home.
func emulate(o cloud.EmulateOptions) (*cloud.Emulator, error) {
	srv := winktest.NewServer(winktest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger})
	srv.Furnish()
	return &cloud.Emulator{
		Accounts: func() []cloud.EmulatedAccount {
			_, refresh := srv.IssueTokens()
			return []cloud.EmulatedAccount{{Name: CloudName, Keys: []cloud.KeyValue{
				{Key: "client_id", Value: o.ClientID},
				{Key: "client_secret", Value: o.ClientSecret},
				{Key: "refresh_token", Value: refresh},
				{Key: "api_url", Value: srv.URL},
				{Key: "pubnub_origin", Value: srv.PubNubOrigin},
				{Key: "local_url", Value: srv.HubLocalURL()},
			}}}
		},
		Describe: fmt.Sprintf("Wink REST/OAuth at %s, PubNub at %s (the password grant and the token service at %s take %s / %s)",
			srv.URL, srv.PubNubOrigin, srv.URL+winktest.TokenServicePath, winktest.DefaultEmail, winktest.DefaultPassword),
		Animate: srv.Animate,
		Close:   srv.Close,
	}, nil
}
