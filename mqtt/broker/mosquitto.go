package broker

import (
	"os"
	"os/exec"
)

// MosquittoBinary returns the path of an installed mosquitto (on PATH, or
// Debian's /usr/sbin/mosquitto), or "" when there is none: for tools that
// start a broker of their own and fall back to the embedded one.
func MosquittoBinary() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}
