package mqtt

import paho "github.com/eclipse/paho.mqtt.golang"

// noResumeStore is paho's memory store without resumption: All reports no
// stored packets, so after a reconnect paho does not resend publishes that
// were in flight when the connection dropped.
//
// With a clean session the broker has forgotten them anyway, and paho's
// resume runs concurrently with the OnConnect handler: a publish made there
// (the birth message) would be found in the store, marked as a duplicate
// while it is being written (a data race) and sent twice. Publishes cut off
// by a connection loss instead end with a timeout error in Publish, and the
// caller republishes what matters after the reconnect.
type noResumeStore struct {
	*paho.MemoryStore
}

func newNoResumeStore() noResumeStore {
	return noResumeStore{MemoryStore: paho.NewMemoryStore()}
}

// All returns no keys, so paho resumes nothing after a reconnect.
func (noResumeStore) All() []string { return nil }
