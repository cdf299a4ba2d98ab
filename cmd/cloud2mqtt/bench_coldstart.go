package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
)

// coldRound is one cold start of the bridge and the baseline after it.
type coldRound struct {
	want        int           // devices
	elapsed     time.Duration // from the birth to the last device's messages
	baseline    time.Duration // a bare client publishing the same messages
	total       time.Duration // from the process start
	firstDevice time.Duration // from the birth to the first device's state
	msgs, size  int
	bridgeCPU   time.Duration
	startCPU    cpuReading // broker and bench during the start
	baseCPU     cpuReading // … and during the baseline
	rss, peak   float64    // MiB, idle once everything is published
}

func (c coldRound) ratio() float64 { return c.elapsed.Seconds() / max(c.baseline.Seconds(), 1e-9) }

// benchColdStart measures o.rounds cold starts of n generated Wink devices
// (coldStartRound) and reports their medians; with more than one round, a
// note gives each round's ratio.
func benchColdStart(ctx context.Context, r *benchReport, clouds *cloud.Registry, o benchOptions, dir string, n int) error {
	var rounds []coldRound
	for range o.rounds {
		c, err := coldStartRound(ctx, clouds, o, dir, n)
		if err != nil {
			return err
		}
		rounds = append(rounds, c)
	}
	med := func(f func(coldRound) float64) float64 {
		vs := make([]float64, len(rounds))
		for i, c := range rounds {
			vs[i] = f(c)
		}
		slices.Sort(vs)
		if len(vs)%2 == 1 {
			return vs[len(vs)/2]
		}
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	// medSeconds is the median of a duration, in seconds.
	medSeconds := func(f func(coldRound) time.Duration) float64 {
		return med(func(c coldRound) float64 { return f(c).Seconds() })
	}
	last := rounds[len(rounds)-1]
	want := last.want
	label := fmt.Sprintf("cold start, %d devices", want)
	goal := "≤ 1.3×"
	if want >= 10000 {
		goal = "≤ 1.3×, < 3 s"
	}
	// The ratio is the median of each round's: a round's start and its
	// baseline run back to back, on the machine as it was then.
	elapsed := medSeconds(func(c coldRound) time.Duration { return c.elapsed })
	r.rowWithRatio(label, elapsed,
		medSeconds(func(c coldRound) time.Duration { return c.baseline }), med(coldRound.ratio), "s", goal)
	if len(rounds) > 1 {
		ratios := make([]float64, len(rounds))
		for i, c := range rounds {
			ratios[i] = c.ratio()
		}
		r.note("%d devices, %d rounds: medians above, the ratio the median of the rounds' %s",
			want, len(rounds), formatRatios(ratios))
	}
	r.note("%d devices: %d messages, %.1f MB, %.0f msg/s; %.2f s from the process start, the first device's state %.2f s after the birth",
		want, last.msgs, float64(last.size)/1e6, float64(last.msgs)/elapsed,
		medSeconds(func(c coldRound) time.Duration { return c.total }), medSeconds(func(c coldRound) time.Duration { return c.firstDevice }))
	cpu := func(f func(coldRound) cpuReading) cpuReading {
		out := cpuReading{bench: time.Duration(med(func(c coldRound) float64 { return float64(f(c).bench) })), broker: -1}
		if last.startCPU.broker >= 0 {
			out.broker = time.Duration(med(func(c coldRound) float64 { return float64(f(c).broker) }))
		}
		return out
	}
	startCPU := cpu(func(c coldRound) cpuReading { return c.startCPU })
	baseCPU := cpu(func(c coldRound) cpuReading { return c.baseCPU })
	r.note("%d devices, CPU from the process start: the bridge %.2f s, %s, the bench's own (emulators, subscriber) %.2f s; "+
		"the baseline's: %s, the bench's own (publisher, subscriber) %.2f s",
		want, medSeconds(func(c coldRound) time.Duration { return c.bridgeCPU }), startCPU.brokerText(),
		startCPU.bench.Seconds(), baseCPU.brokerText(), baseCPU.bench.Seconds())
	rssGoal := ""
	switch {
	case want <= 100:
		rssGoal = "< 20 MiB"
	case want >= 10000:
		rssGoal = "< 100 MiB"
	}
	r.row(fmt.Sprintf("RSS idle, %d devices", want), med(func(c coldRound) float64 { return c.rss }), 0, "MiB", rssGoal)
	r.row(fmt.Sprintf("RSS peak, %d devices", want), med(func(c coldRound) float64 { return c.peak }), 0, "MiB", "")
	return nil
}

// formatRatios writes ratios as "1.9× 2.1× …", in the order measured.
func formatRatios(ratios []float64) string {
	parts := make([]string, len(ratios))
	for i, x := range ratios {
		parts[i] = fmt.Sprintf("%.2f×", x)
	}
	return strings.Join(parts, " ")
}

// coldStartRound starts a bridge over n generated Wink devices and
// measures from its first message (its birth, once connected to the
// broker) until every device's discovery, state and availability reached a
// subscriber; then a bare paho client publishes the same messages. It
// leaves the broker without the retained messages of either.
func coldStartRound(ctx context.Context, clouds *cloud.Registry, o benchOptions, dir string, n int) (coldRound, error) {
	emulators, err := benchEmulators(clouds, "wink", cloud.EmulateOptions{Accounts: o.accounts, Devices: n / o.accounts})
	defer emulators.Close()
	if err != nil {
		return coldRound{}, err
	}
	want := n / o.accounts * o.accounts
	base, cfg, sub, col, err := benchWatch(o, dir, emulatorAccounts(emulators), nil)
	if err != nil {
		return coldRound{}, err
	}
	defer sub.Disconnect(100)
	meter := cpuMeter{broker: o.brokerProc}
	before := meter.read()
	start := time.Now()
	child, err := startChild(o.bridgeBin, filepath.Join(dir, base+".log"), "run", "--config", cfg)
	if err != nil {
		return coldRound{}, err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			child.stop()
		}
	}
	defer stop()
	states, avail, disc := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var elapsed, firstDevice time.Duration
	var connected time.Time // the bridge's first message: its birth on bridge/state
	err = col.wait(ctx, 3*time.Minute, func(m benchMessage) bool {
		if connected.IsZero() {
			connected = m.at
		}
		if len(m.payload) == 0 {
			return false
		}
		switch rest, ok := strings.CutPrefix(m.topic, base+"/"); {
		case !ok:
			if strings.HasSuffix(m.topic, "/config") {
				disc[m.topic] = true
			}
		case strings.HasPrefix(rest, "bridge/"):
		case strings.HasSuffix(rest, "/availability"):
			avail[rest] = true
		default:
			if len(states) == 0 {
				firstDevice = m.at.Sub(connected)
			}
			states[rest] = true
			// availability: state (the default) carries it in the state.
			if bytes.Contains(m.payload, []byte(`"availability":"`)) {
				avail[rest] = true
			}
		}
		elapsed = m.at.Sub(connected)
		return len(states) >= want && len(avail) >= want && len(disc) >= want
	})
	if err != nil {
		if e := child.exited(); e != nil {
			return coldRound{}, e
		}
		return coldRound{}, fmt.Errorf("bench: cold start of %d devices: %d states, %d availabilities, %d discovery configs: %w",
			want, len(states), len(avail), len(disc), err)
	}
	total := time.Since(start)
	startCPU := meter.read().since(before)
	bridgeCPU, err := child.cpu()
	if err != nil {
		return coldRound{}, err
	}
	msgs := col.messages()
	var size int
	for _, m := range msgs {
		size += len(m.topic) + len(m.payload)
	}
	// Idle: what the bridge holds once everything is published.
	waitIdle(ctx, col, 2*time.Second)
	rss, peak, err := child.rssMiB()
	if err != nil {
		return coldRound{}, err
	}
	stop()

	retained := func(topic string) bool { return !strings.HasSuffix(topic, "/bridge/event") }
	basePrefix := "c2m-bench-" + randomSuffix()
	before = meter.read()
	baseline, err := publishAllBaseline(ctx, o.url, basePrefix, msgs, retained)
	if err != nil {
		return coldRound{}, err
	}
	baseCPU := meter.read().since(before)
	c := coldRound{want: want, elapsed: elapsed, baseline: baseline, total: total, firstDevice: firstDevice,
		msgs: len(msgs), size: size, bridgeCPU: bridgeCPU, startCPU: startCPU, baseCPU: baseCPU, rss: rss, peak: peak}
	// Leave the broker as it was: no retained messages of the bench.
	topics := retainedTopics(col)
	for _, t := range slices.Clone(topics) {
		topics = append(topics, basePrefix+"/"+t)
	}
	return c, clearRetained(o.url, topics)
}
