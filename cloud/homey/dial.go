package homey

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
)

// homeyLocalDomain is the domain of a Homey's localUrlSecure names: the
// first label is the Homey's LAN IPv4 address with dashes
// ("192-168-1-100.homey.homeylocal.com").
const homeyLocalDomain = ".homey.homeylocal.com"

// dashedIP returns the address a dashed-IP name stands for ("" when host
// is no such name).
func dashedIP(host string) string {
	label, ok := strings.CutSuffix(host, homeyLocalDomain)
	if !ok || strings.Contains(label, ".") {
		return ""
	}
	ip := net.ParseIP(strings.ReplaceAll(label, "-", "."))
	if ip == nil || ip.To4() == nil {
		return ""
	}
	return ip.String()
}

// withLANDialing returns a copy of hc whose connections to a dashed-IP
// name go straight to the IP it names (no DNS lookup, which routers with
// DNS-rebinding protection refuse for LAN addresses), while TLS still
// verifies the certificate for the name. roots, when set, are trusted for
// it. A client whose transport is not an *http.Transport is kept as it is.
func withLANDialing(hc *http.Client, roots *x509.CertPool) *http.Client {
	var tr *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return hc
	}
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if ip := dashedIP(host); ip != "" {
				addr = net.JoinHostPort(ip, port)
			}
		}
		return dial(ctx, network, addr)
	}
	if roots != nil {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = roots
	}
	out := *hc
	out.Transport = tr
	return &out
}
