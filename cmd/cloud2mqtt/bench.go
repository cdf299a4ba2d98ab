package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloud2mqtt/cloud2mqtt/cloud"
	"github.com/cloud2mqtt/cloud2mqtt/mqtt/broker"
)

// benchOptions are the bench command's flags.
type benchOptions struct {
	url       string
	broker    string
	sizes     []int
	accounts  int
	samples   int
	bridgeBin string
	rounds    int // cold starts per size
	keep      bool
	sink      string // hidden: run as the CPU baseline's receiver
	sinkCount int
	relay     string // hidden: run as the relay reference, from this topic
	relayTo   string // … to this one

	brokerProc *benchChild // the broker, when the bench started it
}

func (a *app) benchCommand() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the bridge against a bare MQTT client on the same broker, and print both with their ratio",
		Long: `bench measures, in one run and against one broker: the broker's own publish → delivery
round trip and a bare paho client publishing the cold-start messages (the baselines), then
the bridge (started as its own process with emulated clouds): /set → cloud PUT and cloud push
→ retained state for Wink and Homey, CPU per command beside a bare client receiving the same
messages, and cold starts of --devices devices in --accounts Wink accounts with the bridge's
resident memory. Without --mqtt-url it starts a broker of its own: mosquitto with
set_tcp_nodelay (as docker-compose.yml runs it) when installed, the embedded broker
otherwise (--broker chooses).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.sink != "" {
				return runSink(cmd.Context(), o.url, o.sink, o.sinkCount)
			}
			if o.relay != "" {
				return runRelay(cmd.Context(), o.url, o.relay, o.relayTo)
			}
			switch o.broker {
			case "auto", "mosquitto", "embedded":
			default:
				return fmt.Errorf("bench: --broker %q: use auto, mosquitto or embedded", o.broker)
			}
			if o.accounts < 1 || o.samples < 1 || o.rounds < 1 {
				return fmt.Errorf("bench: --accounts, --samples and --rounds must be at least 1")
			}
			for _, n := range o.sizes {
				if n < o.accounts {
					return fmt.Errorf("bench: --devices %d: each size needs at least one device per account (--accounts %d)", n, o.accounts)
				}
			}
			if o.bridgeBin == "" {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("bench: %w", err)
				}
				o.bridgeBin = self
			}
			return runBench(cmd.Context(), a.stdout, a.clouds, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "mqtt-url", "", "broker to measure against (default: start one, see --broker)")
	f.StringVar(&o.broker, "broker", "auto", "without --mqtt-url, the broker to start: mosquitto (with set_tcp_nodelay), embedded, or auto (mosquitto when installed)")
	f.IntSliceVar(&o.sizes, "devices", []int{100, 1000, 10000}, "cold-start sizes, in devices")
	f.IntVar(&o.accounts, "accounts", 10, "Wink accounts the cold-start devices are spread over")
	f.IntVar(&o.samples, "samples", 500, "messages per latency and CPU figure")
	f.IntVar(&o.rounds, "rounds", 1, "cold starts of each size, each followed by its baseline; the figures are their medians")
	f.StringVar(&o.bridgeBin, "bridge-bin", "", "cloud2mqtt binary to measure (default: this one), e.g. an older build")
	f.BoolVar(&o.keep, "keep", false, "keep the working directory (configurations and logs)")
	f.StringVar(&o.sink, "sink", "", "")
	f.IntVar(&o.sinkCount, "sink-count", 0, "")
	f.StringVar(&o.relay, "relay", "", "")
	f.StringVar(&o.relayTo, "relay-to", "", "")
	for _, name := range []string{"sink", "sink-count", "relay", "relay-to"} {
		_ = f.MarkHidden(name)
	}
	return cmd
}

// benchReport prints the figures as a table, one row as each is measured.
type benchReport struct {
	w io.Writer
}

const benchRow = "%-34s %12s %12s %8s  %s\n"

func newBenchReport(w io.Writer) *benchReport {
	r := &benchReport{w: w}
	fmt.Fprintf(w, benchRow, "figure", "bridge", "baseline", "ratio", "goal")
	return r
}

// row prints one figure beside its baseline (when base > 0) and the ratio.
func (r *benchReport) row(name string, v, base float64, unit, goal string) {
	ratio := 0.0
	if base > 0 {
		ratio = v / base
	}
	r.rowWithRatio(name, v, base, ratio, unit, goal)
}

// rowWithRatio prints one figure beside its baseline (when base > 0) and
// ratio, which is given: the median of each round's ratio, say, rather
// than the ratio of the medians.
func (r *benchReport) rowWithRatio(name string, v, base, ratio float64, unit, goal string) {
	bs, rs := "", ""
	if base > 0 {
		bs = formatFigure(base, unit)
		rs = fmt.Sprintf("%.2f×", ratio)
	}
	fmt.Fprintf(r.w, benchRow, name, formatFigure(v, unit), bs, rs, goal)
}

// note prints a line of its own.
func (r *benchReport) note(format string, args ...any) {
	fmt.Fprintf(r.w, "# "+format+"\n", args...)
}

func formatFigure(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "/s":
		return fmt.Sprintf("%.1f/s", v)
	case "µs":
		return fmt.Sprintf("%.0f µs", v)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func runBench(ctx context.Context, stdout io.Writer, clouds *cloud.Registry, o benchOptions) error {
	dir, err := os.MkdirTemp("", "cloud2mqtt-bench-")
	if err != nil {
		return fmt.Errorf("bench: working directory: %w", err)
	}
	if o.keep {
		fmt.Fprintln(stdout, "# working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	brokerName := "given by --mqtt-url"
	if o.url == "" {
		bin := broker.MosquittoBinary()
		if o.broker == "mosquitto" && bin == "" {
			return fmt.Errorf("bench: --broker mosquitto: no mosquitto on PATH or in /usr/sbin; install it, or use --broker embedded")
		}
		if o.broker != "embedded" && bin != "" {
			m, err := startMosquitto(ctx, bin, dir)
			if err != nil {
				return err
			}
			defer m.stop()
			o.url, brokerName = m.url, m.version+", set_tcp_nodelay true"
			o.brokerProc = m.benchChild
		} else {
			b, err := broker.Start("127.0.0.1:0", discardLogger())
			if err != nil {
				return fmt.Errorf("bench: start the embedded broker: %w", err)
			}
			defer b.Close()
			o.url, brokerName = b.URL(), "the embedded broker"
		}
	}
	r := newBenchReport(stdout)
	r.note("broker %s (%s), bridge %s", o.url, brokerName, o.bridgeBin)

	rt, err := brokerRoundTrip(ctx, o.url, "c2m-bench-"+randomSuffix()+"/rt", o.samples)
	if err != nil {
		return err
	}
	r.row("broker publish → delivery p50", ms(rt.pct(0.5)), 0, "ms", "")
	r.row("broker publish → delivery p99", ms(rt.pct(0.99)), 0, "ms", "")
	relay, err := relayRoundTrip(ctx, o.url, "c2m-bench-"+randomSuffix(), o.samples, dir)
	if err != nil {
		return err
	}
	r.row("through a bare relay p50", ms(relay.pct(0.5)), ms(rt.pct(0.5)), "ms", "")
	r.row("through a bare relay p99", ms(relay.pct(0.99)), ms(rt.pct(0.99)), "ms", "")
	r.note("the relay is a bare paho client in a process of its own that publishes each message again "+
		"(%.0f µs of CPU per message): the least a bridge (or any process) in a message's path adds here",
		float64(relay.cpu.Nanoseconds())/1000)
	if err := benchPaths(ctx, r, clouds, o, dir, rt, relay); err != nil {
		return err
	}
	for _, n := range o.sizes {
		if err := benchColdStart(ctx, r, clouds, o, dir, n); err != nil {
			return err
		}
	}
	return nil
}

// retainedTopics are the topics of the retained messages a bench
// subscriber received (all but bridge/event), once each.
func retainedTopics(col *collector) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range col.messages() {
		if !seen[m.topic] && !strings.HasSuffix(m.topic, "/bridge/event") {
			seen[m.topic] = true
			out = append(out, m.topic)
		}
	}
	return out
}

// waitIdle returns once no message arrived for quiet (or after 15s).
func waitIdle(ctx context.Context, col *collector, quiet time.Duration) {
	deadline := time.Now().Add(15 * time.Second)
	last := len(col.messages())
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(quiet)
		n := len(col.messages())
		if n == last {
			return
		}
		last = n
	}
}

// randomSuffix makes topics and client ids of one run unique.
func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
