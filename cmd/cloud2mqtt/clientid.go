package main

import (
	"path/filepath"

	"github.com/cloud2mqtt/cloud2mqtt/config"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// mqttClientID is mqtt.client_id, or else an id fixed by the base topic and
// the state directory: the same installation gets the same id after a
// restart, and so the broker's session with the commands queued while it
// was away.
func mqttClientID(cfg *config.Config) string {
	if cfg.MQTT.ClientID != "" {
		return cfg.MQTT.ClientID
	}
	dir := cfg.StateDir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return mqtt.ClientIDFor(cfg.MQTT.BaseTopic, dir)
}
