package bridge

import "github.com/cloud2mqtt/cloud2mqtt/cloud"

// PushOff is the push state shown for an account that needs a login: its
// push channel, if still open, no longer stands for a working account.
const PushOff = "off"

// shownPush is the push state bridge/info and health_check show for a:
// the provider's, unless the account needs a login. Call with b.mu held.
func shownPush(a *account) string {
	if a.status == StatusAuthRequired && a.push == cloud.PushLive {
		return PushOff
	}
	return string(a.push)
}
