package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.yaml.in/yaml/v3"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// benchChild is a process the bench started and measures.
type benchChild struct {
	cmd  *exec.Cmd
	logs string // where its output goes
	done chan error
}

// childEnv is the environment without cloud2mqtt settings, which would
// override the bench's configuration file.
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CLOUD2MQTT_") && !strings.HasPrefix(kv, "CLOUD2MQTT_TEST_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// startChild starts bin with args, its output in logPath.
func startChild(bin, logPath string, args ...string) (*benchChild, error) {
	logs, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logs, logs, childEnv()
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, fmt.Errorf("bench: start %s: %w", bin, err)
	}
	c := &benchChild{cmd: cmd, logs: logPath, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logs.Close() }()
	return c, nil
}

// stop interrupts the process and waits for it to end; once it ended,
// stop returns at once.
func (c *benchChild) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		err = <-c.done
	}
	c.done <- err
}

// exited reports an early end of the process, naming its log.
func (c *benchChild) exited() error {
	select {
	case err := <-c.done:
		c.done <- err
		return fmt.Errorf("bench: %s ended early (%v); its output is in %s", filepath.Base(c.cmd.Path), err, c.logs)
	default:
		return nil
	}
}

// procStatus reads a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func (c *benchChild) procStatus(field string) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("bench: memory of the bridge: %w (the bench reads /proc, so it runs on Linux)", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("bench: no %s in /proc/%d/status", field, c.cmd.Process.Pid)
}

// rssMiB is the resident memory now and at its peak.
func (c *benchChild) rssMiB() (now, peak float64, err error) {
	n, err := c.procStatus("VmRSS")
	if err != nil {
		return 0, 0, err
	}
	p, err := c.procStatus("VmHWM")
	return n / 1024, p / 1024, err
}

// cpu is the process's CPU time so far (see processCPU).
func (c *benchChild) cpu() (time.Duration, error) { return processCPU(c.cmd.Process.Pid) }

// processCPU is a process's CPU time so far, summed over its threads from
// /proc/<pid>/task/*/schedstat (nanoseconds, where /proc/<pid>/stat counts
// 10 ms ticks).
func processCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("bench: CPU time of process %d: no /proc/%d/task (the bench reads /proc, so it runs on Linux)", pid, pid)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, errors.New("bench: unexpected " + t)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// cpuMeter reads the CPU time of the bench's own process and of the
// broker, when the bench started it.
type cpuMeter struct {
	broker *benchChild
}

// cpuReading is what a cpuMeter read (broker -1: not measured).
type cpuReading struct {
	bench, broker time.Duration
}

func (m cpuMeter) read() cpuReading {
	r := cpuReading{broker: -1}
	r.bench, _ = processCPU(os.Getpid())
	if m.broker != nil {
		if d, err := m.broker.cpu(); err == nil {
			r.broker = d
		}
	}
	return r
}

// since is the CPU time spent from before to r.
func (r cpuReading) since(before cpuReading) cpuReading {
	out := cpuReading{bench: r.bench - before.bench, broker: -1}
	if r.broker >= 0 && before.broker >= 0 {
		out.broker = r.broker - before.broker
	}
	return out
}

// brokerText names the broker's share, or says it was not measured.
func (r cpuReading) brokerText() string {
	if r.broker < 0 {
		return "the broker not measured apart (given by --mqtt-url, or embedded in the bench's process)"
	}
	return fmt.Sprintf("the broker %.2f s", r.broker.Seconds())
}

// emulatorAccounts are the emulators' main accounts as configuration
// entries.
func emulatorAccounts(emulators runningEmulators) []map[string]any {
	var accounts []map[string]any
	for _, n := range emulators.names() {
		for _, ea := range emulators[n].Accounts() {
			if ea.ExtraOnly {
				continue
			}
			acc := map[string]any{"name": ea.Name, "cloud": n}
			for _, kv := range ea.Keys {
				acc[kv.Key] = kv.Value
			}
			accounts = append(accounts, acc)
		}
	}
	return accounts
}

// benchConfig writes the configuration of a bridge under test: the broker,
// topics of its own, no status page, the accounts, and extra settings.
func benchConfig(dir, url, base string, accounts []map[string]any, extra map[string]any) (string, error) {
	cfg := map[string]any{
		"mqtt":      map[string]any{"url": url, "base_topic": base, "discovery_prefix": base + "-ha"},
		"web":       map[string]any{"listen": "off"},
		"state_dir": filepath.Join(dir, base+"-state"),
		"log_level": "warn",
		"accounts":  accounts,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("bench: write the configuration: %w", err)
	}
	path := filepath.Join(dir, base+".yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("bench: write the configuration: %w", err)
	}
	return path, nil
}

// runSink is the hidden `bench --sink` mode: a bare paho client that
// receives count messages on filter, the baseline of the bridge's CPU per
// command. It prints "ready" once subscribed and "done" after the last
// message.
func runSink(ctx context.Context, url, filter string, count int) error {
	c, err := pahoConnect(url, "c2m-bench-sink-"+randomSuffix())
	if err != nil {
		return err
	}
	defer c.Disconnect(100)
	got := make(chan struct{}, 1024)
	tok := c.Subscribe(filter, 1, func(paho.Client, paho.Message) { got <- struct{}{} })
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("bench: sink: subscribe to %s: %v", filter, tokenError(tok))
	}
	fmt.Println("ready")
	for range count {
		select {
		case <-got:
		case <-ctx.Done():
			return nil
		}
	}
	fmt.Println("done")
	<-ctx.Done()
	return nil
}

// runRelay is the hidden `bench --relay` mode: a bare paho client that
// publishes every message on topic from again on topic to (QoS 1), the
// least any bridge process in a message's path does. It prints "ready"
// once subscribed.
func runRelay(ctx context.Context, url, from, to string) error {
	c, err := pahoConnect(url, "c2m-bench-relay-"+randomSuffix())
	if err != nil {
		return err
	}
	defer c.Disconnect(100)
	tok := c.Subscribe(from, 1, func(c paho.Client, m paho.Message) { c.Publish(to, 1, false, m.Payload()) })
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("bench: relay: subscribe to %s: %v", from, tokenError(tok))
	}
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}

// helper is a running `bench --sink` or `bench --relay` process, whose
// lines on standard output say how far it got.
type helper struct {
	*benchChild
	lines *bufio.Scanner
}

// startSink starts a sink for count messages on filter and waits until it
// is subscribed.
func startSink(url, filter string, count int, logDir string) (*helper, error) {
	return startHelper(logDir, "sink", "--sink", filter, "--sink-count", strconv.Itoa(count), "--mqtt-url", url)
}

// startRelay starts a relay from topic from to topic to and waits until
// it is subscribed.
func startRelay(url, from, to, logDir string) (*helper, error) {
	return startHelper(logDir, "relay", "--relay", from, "--relay-to", to, "--mqtt-url", url)
}

// startHelper runs this binary's bench with args, its errors in
// <logDir>/<name>.log, and waits until it prints "ready".
func startHelper(logDir, name string, args ...string) (*helper, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command(self, append([]string{"bench"}, args...)...)
	cmd.Env = childEnv()
	logs, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the %s: %w", name, err)
	}
	c := &benchChild{cmd: cmd, logs: logs.Name(), done: make(chan error, 1)}
	h := &helper{benchChild: c, lines: bufio.NewScanner(out)}
	if !h.expect("ready") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logs.Close()
		return nil, fmt.Errorf("bench: the %s did not subscribe; see %s", name, logs.Name())
	}
	go func() { c.done <- cmd.Wait(); logs.Close() }()
	return h, nil
}

// expect reads the helper's next line and tells whether it is want.
func (h *helper) expect(want string) bool {
	return h.lines.Scan() && h.lines.Text() == want
}

// emulate starts the clouds' emulators for the bench.
func benchEmulators(clouds *cloud.Registry, only string, o cloud.EmulateOptions) (runningEmulators, error) {
	r := cloud.NewRegistry()
	for _, reg := range clouds.Registrations() {
		if only == "" || reg.Name == only {
			r.Register(reg)
		}
	}
	return startEmulators(r, discardLogger(), o)
}

// benchWatch writes a bridge configuration for accounts under a fresh base
// topic, and subscribes a bare client to everything the bridge will publish
// there (state and discovery), recording it in col.
func benchWatch(o benchOptions, dir string, accounts []map[string]any, extra map[string]any) (base, cfg string, sub paho.Client, col *collector, err error) {
	base = "c2m-bench-" + randomSuffix()
	if cfg, err = benchConfig(dir, o.url, base, accounts, extra); err != nil {
		return "", "", nil, nil, err
	}
	if sub, err = pahoConnect(o.url, "c2m-bench-sub-"+randomSuffix()); err != nil {
		return "", "", nil, nil, err
	}
	col = newCollector()
	if err = subscribe(sub, col.add, base+"/#", base+"-ha/#"); err != nil {
		sub.Disconnect(100)
		return "", "", nil, nil, err
	}
	return base, cfg, sub, col, nil
}
