package main

import (
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/config"
)

func TestMQTTClientIDFixedPerInstallation(t *testing.T) {
	cfg := func(base, dir, id string) *config.Config {
		c := &config.Config{StateDir: dir}
		c.MQTT.BaseTopic, c.MQTT.ClientID = base, id
		return c
	}
	a := mqttClientID(cfg("cloud2mqtt", "/var/lib/c2m", ""))
	if a != mqttClientID(cfg("cloud2mqtt", "/var/lib/c2m", "")) {
		t.Fatal("the derived client id changes between runs")
	}
	if a == mqttClientID(cfg("cloud2mqtt", "/srv/other", "")) || a == mqttClientID(cfg("home", "/var/lib/c2m", "")) {
		t.Fatal("two installations derive the same client id")
	}
	if got := mqttClientID(cfg("cloud2mqtt", "/var/lib/c2m", "mine")); got != "mine" {
		t.Fatalf("mqtt.client_id set: id = %q, want it used as is", got)
	}
}
