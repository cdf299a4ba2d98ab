package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// TLSConfig returns the TLS configuration for the broker connection: nil
// when no TLS option is set and the URL scheme does not imply TLS;
// otherwise a config trusting mqtt.tls.ca (the system roots when unset),
// presenting the client certificate if set, and honouring
// insecure_skip_verify. Errors name the
// mqtt.tls key whose file could not be used.
func (m MQTT) TLSConfig() (*tls.Config, error) {
	scheme := ""
	if u, err := url.Parse(m.URL); err == nil {
		scheme = strings.ToLower(u.Scheme)
	}
	if m.TLS == (TLS{}) && !tlsScheme(scheme) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: m.TLS.InsecureSkipVerify} //nolint:gosec // explicit opt-in by the user
	if m.TLS.CA != "" {
		pem, err := os.ReadFile(m.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.ca: read %q: %w: set the path of the broker's CA certificate (PEM)", m.TLS.CA, unwrapPathError(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.tls.ca: %q holds no PEM certificate: point it at the CA certificate in PEM form", m.TLS.CA)
		}
		cfg.RootCAs = pool
	}
	if m.TLS.Cert != "" || m.TLS.Key != "" {
		if m.TLS.Cert == "" || m.TLS.Key == "" {
			return nil, fmt.Errorf("mqtt.tls.cert and mqtt.tls.key: set both (client certificate and its key) or neither")
		}
		if _, err := os.Stat(m.TLS.Cert); err != nil {
			return nil, fmt.Errorf("mqtt.tls.cert: %q: %w: set the path of the client certificate (PEM)", m.TLS.Cert, unwrapPathError(err))
		}
		if _, err := os.Stat(m.TLS.Key); err != nil {
			return nil, fmt.Errorf("mqtt.tls.key: %q: %w: set the path of the client key (PEM)", m.TLS.Key, unwrapPathError(err))
		}
		cert, err := tls.LoadX509KeyPair(m.TLS.Cert, m.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.cert/mqtt.tls.key: load %q and %q: %w: both must be PEM and the key must match the certificate", m.TLS.Cert, m.TLS.Key, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// unwrapPathError drops the path from an *os.PathError, which the caller
// already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
