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

// emulate starts the Wink emulator: one server per account, furnished with
// the demo home or generated devices.
func emulate(o cloud.EmulateOptions) (*cloud.Emulator, error) {
	srvs, err := cloud.StartHomes(o, func(n int) (*winktest.Server, error) {
		srv, err := winktest.Start(winktest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger,
			RESTAddr: o.Addr(n, 0), PubNubAddr: o.Addr(n, 1)})
		if err != nil {
			return nil, fmt.Errorf("wink emulator: %w", err)
		}
		if o.Devices > 0 {
			srv.FurnishGenerated(o.Devices, o.AccountName(CloudName, n))
		} else {
			srv.Furnish()
		}
		return srv, nil
	})
	if err != nil {
		return nil, err
	}
	describe := fmt.Sprintf("Wink REST/OAuth at %s, PubNub at %s; the password grant and the token service at %s take %s / %s",
		srvs[0].URL, srvs[0].PubNubOrigin, srvs[0].URL+winktest.TokenServicePath, winktest.DefaultEmail, winktest.DefaultPassword)
	return cloud.HomesEmulator(srvs, describe, func() []cloud.EmulatedAccount {
		out := make([]cloud.EmulatedAccount, 0, len(srvs))
		for n, srv := range srvs {
			_, refresh := srv.IssueTokens()
			out = append(out, cloud.EmulatedAccount{Name: o.AccountName(CloudName, n), Keys: []cloud.KeyValue{
				{Key: "client_id", Value: o.ClientID},
				{Key: "client_secret", Value: o.ClientSecret},
				{Key: "refresh_token", Value: refresh},
				{Key: "api_url", Value: srv.URL},
				{Key: "pubnub_origin", Value: srv.PubNubOrigin},
				{Key: "local_url", Value: srv.HubLocalURL()},
			}})
		}
		return out
	}), nil
}
