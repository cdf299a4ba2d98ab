package mqtt

import paho "github.com/eclipse/paho.mqtt.golang"

// noResumeStore is paho's memory store without resumption: All reports no
// stored packets, so after a reconnect paho does not resend publishes that
// were in flight when the connection dropped.
//
// Every connection has its own paho client and store (see connection), so
// the store never holds packets of an earlier connection; with a persistent
// session paho would still run its resume on connect, concurrently with
// the first publishes (the birth message), and could find one of them in
// the store, mark it as a duplicate while it is being written (a data race)
// and send it twice. Inbound QoS 1 messages need no store: paho acknowledges
// them once they are queued, and the broker resends unacknowledged ones on
// the next connect of the session. Publishes cut off by a connection loss
// end with ErrNotConnected in Publish, and the caller republishes what
// matters after the reconnect (the broker keeps no client-to-broker state
// that a resend would complete).
type noResumeStore struct {
	*paho.MemoryStore
}

func newNoResumeStore() noResumeStore {
	return noResumeStore{MemoryStore: paho.NewMemoryStore()}
}

// All returns no keys, so paho resumes nothing after a reconnect.
func (noResumeStore) All() []string { return nil }
