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

// emulate starts the Athom cloud and Homey emulator with the demo home:
// the Homey through the cloud, and the same Homey by its local API key.
func emulate(o cloud.EmulateOptions) (*cloud.Emulator, error) {
	srv := homeytest.NewServer(homeytest.Options{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Logger: o.Logger})
	srv.Furnish()
	return &cloud.Emulator{
		Accounts: func() []cloud.EmulatedAccount {
			_, refresh := srv.IssueTokens()
			return []cloud.EmulatedAccount{
				{Name: CloudName, Keys: []cloud.KeyValue{
					{Key: "client_id", Value: o.ClientID},
					{Key: "client_secret", Value: o.ClientSecret},
					{Key: "refresh_token", Value: refresh},
					{Key: "cloud_url", Value: srv.CloudURL},
				}},
				{Name: CloudName + "-local", ExtraOnly: true, Keys: []cloud.KeyValue{
					{Key: "address", Value: srv.HomeyURL},
					{Key: "api_key", Value: srv.NewAPIKey("homey")},
				}},
			}
		},
		Describe: fmt.Sprintf("Athom cloud at %s, a Homey at %s", srv.CloudURL, srv.HomeyURL),
		Animate:  srv.Animate,
		Close:    srv.Close,
	}, nil
}
