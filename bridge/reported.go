package bridge

import (
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// reportedInterval is how often the bridge looks at what providers report
// for bridge/info on their own (a hub's local control, the path to a
// Homey): they change it inside their calls, without an event.
const reportedInterval = 2 * time.Second

// checkReported schedules bridge/info when what the providers report for
// it changed since last: a hub's local control turning failing, ok or off
// (with its reason), the path to a Homey moving between the LAN and the
// relay. A latency alone is no change. The run loop calls it every
// reportedInterval.
func (b *Bridge) checkReported(last *string) {
	if now := b.reported(); now != *last {
		*last = now
		b.infoChanged()
	}
}

// reported is what the providers report for bridge/info besides the
// account status, as one comparable text.
func (b *Bridge) reported() string {
	var sb strings.Builder
	for _, name := range b.order {
		b.mu.RLock()
		a, ok := b.accounts[name]
		b.mu.RUnlock()
		if !ok {
			continue
		}
		sb.WriteString(name)
		if pr, ok := a.provider.(cloud.PathReporter); ok {
			path, reason := pr.Path()
			sb.WriteString("\x00" + path + "\x00" + reason)
		}
		if lr, ok := a.provider.(cloud.LocalReporter); ok {
			for _, h := range lr.LocalHubs() {
				sb.WriteString("\x00" + h.Hub + "\x00" + h.State + "\x00" + h.Reason)
			}
		}
		sb.WriteString("\x01")
	}
	return sb.String()
}
