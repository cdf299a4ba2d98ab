package homey

import (
	"fmt"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/cloud/homey/homeytest"
)

// CloudName is the value of accounts[].cloud for Homey.
const CloudName = "homey"

// Register adds Homey to r: its settings, its client and its emulator.
func Register(r *cloud.Registry) {
	r.Register(cloud.Registration{
		Name:     CloudName,
		Settings: func() cloud.Settings { return &Settings{} },
		Secrets:  secretKeys,
		New: func(s cloud.Settings, env cloud.Env) (cloud.Provider, error) {
			return New(s.(*Settings).config(env))
		},
		Emulate: emulate,
	})
}

// emulate starts the Athom cloud and Homey emulator: one server per
// account, furnished with the demo home or generated devices; each account
// is the Homey through the Athom cloud and, beside it, the same Homey by its
// local API key.
func emulate(o cloud.EmulateOptions) (*cloud.Emulator, error) {
	srvs, err := cloud.StartHomes(o, func(n int) (*homeytest.Server, error) {
		srv, err := homeytest.Start(homeytest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger,
			CloudAddr: o.Addr(n, 0), HomeyAddr: o.Addr(n, 1)})
		if err != nil {
			return nil, fmt.Errorf("homey emulator: %w", err)
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
	describe := fmt.Sprintf("Athom cloud at %s, a Homey at %s", srvs[0].CloudURL, srvs[0].HomeyURL)
	return cloud.HomesEmulator(srvs, describe, func() []cloud.EmulatedAccount {
		var out []cloud.EmulatedAccount
		for n, srv := range srvs {
			_, refresh := srv.IssueTokens()
			name := o.AccountName(CloudName, n)
			out = append(out,
				cloud.EmulatedAccount{Name: name, Keys: []cloud.KeyValue{
					{Key: "client_id", Value: o.ClientID},
					{Key: "client_secret", Value: o.ClientSecret},
					{Key: "refresh_token", Value: refresh},
					{Key: "cloud_url", Value: srv.CloudURL},
				}},
				cloud.EmulatedAccount{Name: name + "-local", ExtraOnly: true, Keys: []cloud.KeyValue{
					{Key: "address", Value: srv.HomeyURL},
					{Key: "api_key", Value: srv.NewAPIKey("homey")},
				}})
		}
		return out
	}), nil
}
