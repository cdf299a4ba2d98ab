package mqtt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/cloud2mqtt/cloud2mqtt/mqtt"
)

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The client reaches a broker over TLS and over WebSocket as well as over
// plain TCP, and messages go both ways.
func TestConnectsOverTLSAndWebSocket(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := mochi.New(&mochi.Options{InlineClient: false})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	tlsAddr, wsAddr := freeAddr(t), freeAddr(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tls", Address: tlsAddr, TLSConfig: serverTLS})); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(listeners.NewWebsocket(listeners.Config{ID: "ws", Address: wsAddr})); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	for i, url := range []string{"mqtts://" + tlsAddr, "ws://" + wsAddr + "/mqtt"} {
		t.Run(strings.SplitN(url, ":", 2)[0], func(t *testing.T) {
			base := "c2m-conn-" + strconv.Itoa(i)
			c := connect(t, url, base, func(o *mqtt.Options) {
				o.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			})
			got := make(chan mqtt.Message, 8)
			if err := c.Subscribe(ctxT(t), base+"/echo", func(m mqtt.Message) { got <- m }); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			if err := c.Publish(ctxT(t), base+"/echo", []byte("hello"), false); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			select {
			case m := <-got:
				if string(m.Payload) != "hello" {
					t.Fatalf("received %q, want hello", m.Payload)
				}
			case <-time.After(wait):
				t.Fatal("the message did not come back")
			}
		})
	}
}
