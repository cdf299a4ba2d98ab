package bridge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/internal/backoff"
)

// queuedValue is a field's latest commanded value and the end of its
// command's lifetime.
type queuedValue struct {
	value    any
	deadline time.Time
}

// deviceQueue holds one device's commands: those not yet sent (merged,
// the latest value of each field winning), whether a sender runs, and when
// it last called the cloud (for the rate limit).
type deviceQueue struct {
	next     map[string]queuedValue
	running  bool
	lastSent time.Time
}

// mergeInto adds src to dst (queued values, or a change to confirm), the
// later value of a field winning. A colour temperature and a hue cannot
// both be the latest colour: the later kind drops the other.
func mergeInto[V any](dst, src map[string]V) {
	if _, ok := src[cloud.FieldColorTemp]; ok {
		delete(dst, cloud.FieldHue)
		delete(dst, cloud.FieldSaturation)
	}
	if _, ok := src[cloud.FieldHue]; ok {
		delete(dst, cloud.FieldColorTemp)
	}
	for k, v := range src {
		dst[k] = v
	}
}

// enqueue accepts a change for a device: it is merged with those not yet
// sent and sent as soon as the device's rate allows. It is applied, or
// reported on bridge/event as failed, within the command lifetime.
func (b *Bridge) enqueue(account, id string, change cloud.Change) {
	key := account + "\x00" + id
	deadline := time.Now().Add(b.opts.CommandLifetime)
	fields := make(map[string]queuedValue, len(change))
	for k, v := range change {
		fields[k] = queuedValue{value: v, deadline: deadline}
	}
	b.cmdMu.Lock()
	q, ok := b.queues[key]
	if !ok {
		q = &deviceQueue{}
		b.queues[key] = q
	}
	if q.next == nil {
		q.next = map[string]queuedValue{}
	}
	mergeInto(q.next, fields)
	start := !q.running
	q.running = true
	b.cmdMu.Unlock()
	if start {
		go b.runQueue(account, id, key, q)
	}
}

// runQueue sends a device's commands one change at a time, no more often
// than the rate limit, until none is left.
func (b *Bridge) runQueue(account, id, key string, q *deviceQueue) {
	for {
		b.cmdMu.Lock()
		wait := time.Until(q.lastSent.Add(b.sendInterval()))
		b.cmdMu.Unlock()
		if !b.pause(wait) {
			return
		}
		b.cmdMu.Lock()
		batch := q.next
		q.next = nil
		if len(batch) == 0 {
			q.running = false
			delete(b.queues, key)
			b.cmdMu.Unlock()
			return
		}
		b.cmdMu.Unlock()
		b.sendBatch(account, id, q, batch)
	}
}

// sendInterval is the least time between two calls for one device.
func (b *Bridge) sendInterval() time.Duration {
	if b.opts.MaxRate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / b.opts.MaxRate)
}

// pause waits d, or returns false when the bridge stops first.
func (b *Bridge) pause(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.done:
		return false
	}
}

// sendBatch calls the cloud with batch until it is applied, retrying what
// may succeed later (5xx, 429 after its Retry-After, timeouts, a failed
// session renewal) with jittered back-off. Before each retry newer
// commands to the device join the batch, replacing queued values of the
// same field. Fields whose lifetime ends, and every field on an error that
// cannot succeed, are reported as command_failed with the reason and the
// attempts made.
func (b *Bridge) sendBatch(account, id string, q *deviceQueue, batch map[string]queuedValue) {
	b.mu.RLock()
	p := b.accounts[account].provider
	b.mu.RUnlock()
	for attempt := 1; ; attempt++ {
		change := changeOf(batch)
		last := time.Time{}
		for _, v := range batch {
			if v.deadline.After(last) {
				last = v.deadline
			}
		}
		timeout := min(b.opts.CommandTimeout, max(time.Until(last), time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		b.cmdMu.Lock()
		q.lastSent = time.Now()
		b.cmdMu.Unlock()
		d, err := p.Set(ctx, id, change)
		cancel()
		if err == nil {
			b.applied(account, id, change, d)
			return
		}
		if cloud.Permanent(err) {
			b.commandFailed(account, id, change, err, attempt, "")
			if errors.Is(err, cloud.ErrAuth) {
				b.sendEvent(accountEvent{account: account, ev: cloud.Event{Kind: cloud.EventAuth, Err: err}})
			}
			return
		}
		now := time.Now()
		expired := cloud.Change{}
		latest := time.Time{}
		for k, v := range batch {
			if !v.deadline.After(now) {
				expired[k] = v.value
				delete(batch, k)
			} else if v.deadline.After(latest) {
				latest = v.deadline
			}
		}
		if len(expired) > 0 {
			b.commandFailed(account, id, expired, err, attempt, b.opts.CommandLifetime.String())
		}
		if len(batch) == 0 {
			return
		}
		retryAfter := cloud.RetryAfter(err)
		wait := max(retryAfter, backoff.Delay(attempt), b.sendInterval())
		if until := latest.Sub(now); wait > until {
			// The last try comes at the end of the lifetime, unless the
			// cloud asked to wait longer than that.
			wait = until
			if retryAfter > until {
				if !b.pause(until) {
					return
				}
				b.commandFailed(account, id, changeOf(batch), fmt.Errorf("%w (the cloud asked to retry after %s)", err, retryAfter.Round(time.Second)),
					attempt, b.opts.CommandLifetime.String())
				return
			}
		}
		b.log.Info("command not applied yet; retrying", "account", account, "device", id, "attempt", attempt,
			"retry_in", wait.Round(time.Millisecond), "error", err)
		if !b.pause(wait) {
			return
		}
		b.cmdMu.Lock()
		if len(q.next) > 0 {
			mergeInto(batch, q.next)
			q.next = nil
		}
		b.cmdMu.Unlock()
		if len(batch) == 0 {
			return
		}
	}
}

// changeOf is the change a batch sends.
func changeOf(batch map[string]queuedValue) cloud.Change {
	change := make(cloud.Change, len(batch))
	for k, v := range batch {
		change[k] = v.value
	}
	return change
}

// commandFailed reports fields of a command that will not be applied:
// lifetime is the command lifetime when it ran out, "" when the error
// cannot succeed by retrying.
func (b *Bridge) commandFailed(account, id string, change cloud.Change, err error, attempts int, lifetime string) {
	fields := make([]string, 0, len(change))
	for k := range change {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	reason := "the cloud refused it: " + err.Error()
	if lifetime != "" {
		reason = "not applied within the command lifetime of " + lifetime + " (commands.lifetime): " + err.Error()
	}
	b.observeCommand(account, CommandFailed)
	b.log.Warn("command failed", "account", account, "device", id, "fields", fields, "attempts", attempts, "error", err)
	report, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.publishEvent(report, "command_failed", map[string]any{"account": account, "id": id,
		"change": change, "fields": fields, "error": err.Error(), "reason": reason, "attempts": attempts})
}
