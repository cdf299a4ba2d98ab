package broker

import (
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// allowHook lets every client connect and use every topic. It stands in
// for mochi's auth.AllowHook, whose package brings a YAML library (for
// its rule files) into every cloud2mqtt binary.
type allowHook struct {
	mochi.HookBase
}

// ID names the hook.
func (h *allowHook) ID() string { return "cloud2mqtt-allow-all" }

// Provides tells mochi the hook decides authentication and ACL checks.
func (h *allowHook) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// OnConnectAuthenticate lets every client in.
func (h *allowHook) OnConnectAuthenticate(*mochi.Client, packets.Packet) bool { return true }

// OnACLCheck allows every topic, both ways.
func (h *allowHook) OnACLCheck(*mochi.Client, string, bool) bool { return true }
