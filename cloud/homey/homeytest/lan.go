package homeytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"
)

// HostRemote names requests that reached the Homey through its cloud relay
// (remoteUrl) rather than the LAN.
const HostRemote = "homey-remote"

// SecureLocalHost is the dashed-IP name under homey.homeylocal.com that
// the HTTPS listener's certificate is for, as a Homey Pro's localUrlSecure
// names 127.0.0.1.
const SecureLocalHost = "127-0-0-1.homey.homeylocal.com"

// lanKey marks a request that came over the LAN (localUrl or
// localUrlSecure).
type lanKey struct{}

// lanPaths are the Homey's listeners besides HomeyURL when Options.LANPaths
// is set: HTTPS for localUrlSecure and plain HTTP standing in for the
// cloud relay (remoteUrl).
type lanPaths struct {
	secureSrv, remoteSrv *http.Server
	roots                *x509.CertPool
}

// startLANPaths starts the HTTPS listener (a fresh self-signed certificate
// for SecureLocalHost) and the relay listener.
func (s *Server) startLANPaths() error {
	cert, roots := testCertificate()
	secureLn, err := listen("")
	if err != nil {
		return err
	}
	remoteLn, err := listen("")
	if err != nil {
		secureLn.Close()
		return err
	}
	_, port, _ := net.SplitHostPort(secureLn.Addr().String())
	s.LocalSecureURL = "https://" + SecureLocalHost + ":" + port
	s.RemoteURL = "http://" + remoteLn.Addr().String()
	s.lan = &lanPaths{
		secureSrv: &http.Server{Handler: s.lanOnly(s.homeyHandler(HostHomey)), ReadHeaderTimeout: 10 * time.Second,
			// Clients that do not trust the test certificate are expected.
			ErrorLog:  log.New(io.Discard, "", 0),
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}},
		remoteSrv: &http.Server{Handler: s.homeyHandler(HostRemote), ReadHeaderTimeout: 10 * time.Second},
		roots:     roots,
	}
	go func() { _ = s.lan.secureSrv.ServeTLS(secureLn, "", "") }()
	go func() { _ = s.lan.remoteSrv.Serve(remoteLn) }()
	return nil
}

func (s *Server) closeLANPaths(ctx context.Context) {
	if s.lan == nil {
		return
	}
	_ = s.lan.secureSrv.Shutdown(ctx)
	_ = s.lan.remoteSrv.Shutdown(ctx)
	_ = s.lan.secureSrv.Close()
	_ = s.lan.remoteSrv.Close()
}

// TLSRoots is the certificate pool that trusts the HTTPS listener
// (LocalSecureURL); nil without Options.LANPaths.
func (s *Server) TLSRoots() *x509.CertPool {
	if s.lan == nil {
		return nil
	}
	return s.lan.roots
}

// CutLAN cuts the LAN paths (HomeyURL and LocalSecureURL) while cut is
// true, as a LAN failure would: their connections are closed without an
// answer and their realtime sockets drop. The relay (RemoteURL) keeps
// working.
func (s *Server) CutLAN(cut bool) {
	s.mu.Lock()
	s.faults.lanCut = cut
	s.mu.Unlock()
	if cut {
		s.hub.dropWhere(func(c *sockConn) bool { return c.lan })
	}
}

func (s *Server) lanIsCut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.lanCut
}

// lanOnly serves a LAN listener: nothing while the LAN is cut (the
// connection is closed), and marks its requests as LAN ones.
func (s *Server) lanOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.lanIsCut() {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), lanKey{}, true)))
	})
}

// isLAN reports whether r came over a LAN listener.
func isLAN(r *http.Request) bool {
	v, _ := r.Context().Value(lanKey{}).(bool)
	return v
}

// testCertificate makes a self-signed certificate for SecureLocalHost and
// the pool that trusts it.
func testCertificate() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("homeytest: generate a key: " + err.Error())
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: SecureLocalHost},
		DNSNames:              []string{SecureLocalHost, "*." + strings.SplitN(SecureLocalHost, ".", 2)[1]},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic("homeytest: create a certificate: " + err.Error())
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic("homeytest: parse the certificate: " + err.Error())
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
