package broker

import (
	"slices"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// orderHook keeps a resumed session's queued messages in the order they
// were published. mochi resends them sorted by their creation time in whole
// seconds (compared as uint16) over a map, so messages of one second came
// out in any order: three commands queued while the bridge was away could
// reach it last-first. Before the session is handed over, the hook gives
// each queued message a creation time of its own, in publish order (time,
// then packet id), never earlier than it was.
type orderHook struct {
	mochi.HookBase
	srv *mochi.Server
}

// ID names the hook.
func (h *orderHook) ID() string { return "cloud2mqtt-session-order" }

// Provides tells mochi the hook handles session establishment.
func (h *orderHook) Provides(b byte) bool {
	return b == mochi.OnSessionEstablish
}

// OnSessionEstablish renumbers the queued messages of the session cl takes
// over, if any.
func (h *orderHook) OnSessionEstablish(cl *mochi.Client, pk packets.Packet) {
	if pk.Connect.Clean {
		return
	}
	existing, ok := h.srv.Clients.Get(cl.ID)
	if !ok || existing.State.Inflight.Len() == 0 {
		return
	}
	queued := existing.State.Inflight.GetAll(false)
	slices.SortFunc(queued, func(a, b packets.Packet) int {
		if a.Created != b.Created {
			return int(a.Created - b.Created)
		}
		return int(a.PacketID) - int(b.PacketID)
	})
	created := make([]int64, len(queued))
	for i, q := range queued {
		created[i] = q.Created
		if i > 0 && created[i] <= created[i-1] {
			created[i] = created[i-1] + 1
		}
	}
	// mochi compares the times as uint16: move a run that would wrap past
	// 65535 up to the next multiple of 65536 (later, so none expires early).
	if first, last := created[0], created[len(created)-1]; first>>16 != last>>16 {
		shift := (first>>16+1)<<16 - first
		for i := range created {
			created[i] += shift
		}
	}
	for i, q := range queued {
		q.Created = created[i]
		existing.State.Inflight.Set(q)
	}
}
