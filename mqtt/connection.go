package mqtt

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Reconnect timing. A broker that comes back is found within
// MaxReconnectInterval; the first attempts after a loss come quicker.
const (
	// minReconnectDelay is the wait before the first attempt after a loss.
	minReconnectDelay = 50 * time.Millisecond
	// stableConnection is how long a connection must have held for the
	// back-off to start from minReconnectDelay again. Shorter connections
	// (a broker that accepts and drops, two clients with one id taking
	// the session from each other) keep the longer wait.
	stableConnection = 5 * time.Second
)

// connection is one paho client and its single network connection. paho's
// own reconnecting is off: when the connection is lost, keepConnected
// makes a new one, so nothing of a lost connection (its message ids, its
// pending tokens) carries over.
type connection struct {
	pc    paho.Client
	since time.Time     // when the broker accepted it
	lost  chan struct{} // closed when the connection is lost
	once  sync.Once
	err   error // why it was lost; set before lost is closed
}

func (cn *connection) markLost(err error) {
	cn.once.Do(func() {
		if err == nil {
			err = errors.New("connection closed")
		}
		cn.err = err
		close(cn.lost)
	})
}

// open reports whether cn is up.
func (cn *connection) open() bool { return cn != nil && cn.pc.IsConnectionOpen() }

// dial makes one connection attempt, bounded by ctx and ConnectTimeout. A
// connection that succeeds after ctx ended is closed.
func (c *Client) dial(ctx context.Context) (*connection, error) {
	cn := &connection{lost: make(chan struct{})}
	cn.pc = paho.NewClient(c.pahoOptions(cn))
	tok := cn.pc.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, err
		}
		cn.since = time.Now()
		return cn, nil
	case <-ctx.Done():
		go func() {
			<-tok.Done()
			cn.pc.Disconnect(0)
		}()
		return nil, context.Cause(ctx)
	}
}

// current returns the current (or last) connection.
func (c *Client) current() *connection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// setConnection makes cn the current connection and has connectWorker
// renew the subscriptions and call OnConnect.
func (c *Client) setConnection(cn *connection) {
	c.mu.Lock()
	c.conn = cn
	c.mu.Unlock()
	select {
	case c.connEvents <- struct{}{}:
	default:
	}
}

// keepConnected waits for the loss of cn and connects again, until the
// client is closed. Attempts are spaced by a jittered back-off that starts
// at minReconnectDelay, doubles up to MaxReconnectInterval and starts over
// after a connection that held for stableConnection, so a broker that
// restarts is found again within MaxReconnectInterval every time.
func (c *Client) keepConnected(cn *connection) {
	defer close(c.keeperDone)
	bo := backoff{min: minReconnectDelay, max: c.opts.MaxReconnectInterval}
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-cn.lost:
		}
		c.endConnection()
		lostAt := time.Now()
		if lostAt.Sub(cn.since) >= stableConnection {
			bo.reset()
		}
		c.log.Warn("mqtt: connection lost, reconnecting", "err", cn.err)
		for attempt := 1; ; attempt++ {
			timer.Reset(bo.next())
			select {
			case <-c.done:
				return
			case <-timer.C:
			}
			next, err := c.dial(c.life)
			if err == nil {
				cn = next
				c.log.Info("mqtt: reconnected", "attempts", attempt, "down_for", time.Since(lostAt).Round(time.Millisecond))
				break
			}
			if c.life.Err() != nil {
				return
			}
			c.log.Debug("mqtt: reconnect attempt failed", "attempt", attempt, "err", err)
		}
		c.setConnection(cn)
	}
}

// backoff is a doubling delay with jitter: each delay is drawn from the
// upper half of the current step, so clients do not reconnect in lockstep
// and no delay exceeds max.
type backoff struct {
	min, max time.Duration
	step     time.Duration
}

// next returns the next delay and doubles the step up to max.
func (b *backoff) next() time.Duration {
	if b.step <= 0 {
		b.step = min(b.min, b.max)
	}
	d := b.step
	b.step = min(b.step*2, b.max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// reset starts the delays from min again.
func (b *backoff) reset() { b.step = 0 }
