package config_test

import (
	"strings"
	"testing"
	"time"
)

func TestHomeyAccountsAndBridgeOptions(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, writeFile(t, `
output: attribute_and_json
availability: topic
homeassistant:
  discovery: component
  birth_delay: 5s
devices:
  - {account: home, id: light-1, topic: desk, optimistic: true}
  - {account: home, id: socket-2, exclude: true}
web:
  listen: 0.0.0.0:8099
  password: page-secret
accounts:
  - {name: home, cloud: homey, client_id: cid, client_secret: cs, homey_id: abc, session_lifetime: 12h}
  - {name: pro, cloud: homey, address: "http://192.168.1.50", api_key: "k1:k2:k3", poll_interval: 15s}
`), nil)
	if c.Output != "attribute_and_json" || c.Availability != "topic" || c.HomeAssistant.Discovery != "component" || c.HomeAssistant.BirthDelay != 5*time.Second {
		t.Errorf("options = %q %q %q %v", c.Output, c.Availability, c.HomeAssistant.Discovery, c.HomeAssistant.BirthDelay)
	}
	if len(c.Devices) != 2 || c.Devices[0].Topic != "desk" || !c.Devices[0].Optimistic || !c.Devices[1].Exclude {
		t.Errorf("devices = %+v", c.Devices)
	}
	home, pro := homeySettings(t, c.Accounts[0]), homeySettings(t, c.Accounts[1])
	if home.CloudURL != "https://api.athom.com" || home.SessionLifetime != 12*time.Hour || home.HomeyID != "abc" {
		t.Errorf("cloud homey = %+v", home)
	}
	if pro.CloudURL != "" || pro.PollInterval != 15*time.Second || pro.APIKey != "k1:k2:k3" {
		t.Errorf("local homey = %+v", pro)
	}
	y, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"page-secret", "k1:k2:k3", "cs"} {
		if strings.Contains(string(y), ": "+secret+"\n") {
			t.Errorf("YAML shows %q:\n%s", secret, y)
		}
	}
}

func TestFeatureValidation(t *testing.T) {
	clearEnv(t)
	got := loadErr(t, `
output: xml
availability: everywhere
homeassistant: {discovery: legacy}
devices: [{account: wink, topic: "a/b"}]
web: {listen: "0.0.0.0:8099"}
accounts:
  - {name: a, cloud: homey}
  - {name: b, cloud: homey, address: "http://10.0.0.2"}
  - {name: c, cloud: homey, address: "10.0.0.2", api_key: k}
  - {name: d, cloud: zwave}
  - {name: bridge, cloud: wink, client_id: x, verify_url: "http://login.example.com/verify"}
`)
	contains(t, got,
		`output: "xml": use json, attribute or attribute_and_json`,
		`availability: "everywhere": use state (in each device's JSON state) or topic (also on <device>/availability)`,
		`homeassistant.discovery: "legacy"`,
		`devices[0]: needs account and id`,
		`devices[0].topic: "a/b" must be one topic level`,
		`web.listen: 0.0.0.0:8099 is reachable beyond this machine: set web.password`,
		`accounts[0]: a homey account needs client_id + client_secret`,
		`accounts[1].address and accounts[1].api_key: a Homey Pro on the local network needs both`,
		`accounts[2].address: "10.0.0.2" is not an http(s) URL`,
		`accounts[3].cloud: "zwave" is not supported: use one of "homey", "wink"`,
		`accounts[4].name: "bridge" is the bridge's own topic level`,
		`accounts[4].verify_url: "http://login.example.com/verify" would send the client secret unencrypted`,
	)
}
