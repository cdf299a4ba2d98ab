package homey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// rpcTimeout bounds one command over the realtime socket; after it the
// command goes over HTTP.
const rpcTimeout = 5 * time.Second

// setRPC makes s the socket commands go over while it is connected.
func (c *Client) setRPC(s *socket) {
	c.mu.Lock()
	c.rpc = s
	c.mu.Unlock()
}

// clearRPC stops sending commands over s.
func (c *Client) clearRPC(s *socket) {
	c.mu.Lock()
	if c.rpc == s {
		c.rpc = nil
	}
	c.mu.Unlock()
}

func (c *Client) rpcSocket() *socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rpc
}

// errUseHTTP says a command should go over HTTP instead: the socket is
// gone, slow, or answered with something HTTP's handling deals with
// (a 401 to renew the session after, a 429 or a 5xx to retry).
var errUseHTTP = errors.New("send over HTTP")

// writeCapability sends one capability write: over the realtime socket's
// RPC while it is connected, as Homey's own client does, else (or when the
// socket cannot answer) as an HTTP PUT.
func (c *Client) writeCapability(ctx context.Context, id string, w capWrite, tx string) error {
	if s := c.rpcSocket(); s != nil {
		err := c.writeOverSocket(ctx, s, id, w, tx)
		if !errors.Is(err, errUseHTTP) {
			return err
		}
		c.log.Debug("command over HTTP instead of the realtime socket", "device", id, "capability", w.capID, "err", err)
	}
	path := "/api/manager/devices/device/" + url.PathEscape(id) + "/capability/" + url.PathEscape(w.capID)
	_, err := c.call(ctx, http.MethodPut, path, map[string]any{"value": w.value, "transactionId": tx})
	return err
}

func (c *Client) writeOverSocket(ctx context.Context, s *socket, id string, w capWrite, tx string) error {
	rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	r, err := s.call(rctx, "homey:manager:devices", "setCapabilityValue",
		map[string]any{"deviceId": id, "capabilityId": w.capID, "value": w.value, "transactionId": tx})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", errUseHTTP, err)
	}
	msg := ackError(r.err)
	if msg == "" {
		return nil
	}
	status := ackStatus(r.err)
	herr := &HTTPError{Method: "RPC", Path: "setCapabilityValue " + w.capID, Status: status, Message: errorMessage(r.err, status)}
	switch {
	case status == http.StatusForbidden:
		return &ScopeError{Account: c.cfg.Account, Local: c.local, Scope: ScopeDeviceControl, Op: "changing devices", Message: herr.Message}
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", herr, cloud.ErrNotFound)
	case status >= 400 && status < 500 && status != http.StatusUnauthorized && status != http.StatusTooManyRequests:
		return herr
	}
	return fmt.Errorf("%w: %w", errUseHTTP, herr)
}
