package realdata

import "fmt"

// Gauges returns the query dataset of issue 19: n noisy gauges with the
// given number of decimals (a random walk of 0.5 per step plus noise of 2,
// levels around 50), named gauges.bNNN.sNNN (a thousand a branch).
func Gauges(seed uint64, n, decimals int) *Dataset {
	profiles := []Profile{{Name: "gauge", Kind: Gauge, Start: 50, Spread: 20, Walk: 0.5, Noise: 2, Decimals: decimals}}
	names := make([]string, n)
	of := make([]int, n)
	for i := range names {
		names[i] = fmt.Sprintf("gauges.b%03d.s%03d", i/1000, i%1000)
	}
	d, err := New(seed, profiles, names, of)
	if err != nil {
		panic(err) // decimals out of range: a caller's bug
	}
	return d
}

// collectdProfiles is one host's metrics: collectd's plugins cpu, load,
// memory, interface, disk, df, processes, plus two sparse application
// series. Name is the path under the host.
var collectdProfiles = []Profile{
	{Name: "cpu-%d.cpu-user", Kind: Gauge, Start: 20, Spread: 10, Walk: 0.3, Noise: 3, Min: 0, Max: 100, Decimals: 2},
	{Name: "cpu-%d.cpu-system", Kind: Gauge, Start: 5, Spread: 2, Walk: 0.1, Noise: 1, Min: 0, Max: 100, Decimals: 2},
	{Name: "cpu-%d.cpu-wait", Kind: Gauge, Start: 1, Spread: 0.5, Walk: 0.05, Noise: 0.5, Min: 0, Max: 100, Decimals: 2},
	{Name: "cpu-%d.cpu-idle", Kind: Gauge, Start: 70, Spread: 10, Walk: 0.3, Noise: 3, Min: 0, Max: 100, Decimals: 2},
	{Name: "load.load.shortterm", Kind: Gauge, Start: 1, Spread: 0.5, Walk: 0.05, Noise: 0.2, Min: 0, Max: 64, Decimals: 2},
	{Name: "load.load.midterm", Kind: Gauge, Start: 1, Spread: 0.5, Walk: 0.03, Noise: 0.05, Min: 0, Max: 64, Decimals: 2},
	{Name: "load.load.longterm", Kind: Gauge, Start: 1, Spread: 0.5, Walk: 0.01, Noise: 0.02, Min: 0, Max: 64, Decimals: 2},
	{Name: "memory.memory-used", Kind: Gauge, Start: 4e9, Spread: 1e9, Walk: 40960, Unit: 4096, Min: 0, Max: 64e9},
	{Name: "memory.memory-free", Kind: Gauge, Start: 2e9, Spread: 5e8, Walk: 40960, Unit: 4096, Min: 0, Max: 64e9},
	{Name: "memory.memory-cached", Kind: Gauge, Start: 1e9, Spread: 3e8, Walk: 8192, Unit: 4096, Min: 0, Max: 64e9},
	{Name: "memory.memory-buffered", Kind: Gauge, Start: 1e8, Spread: 3e7, Walk: 4096, Unit: 4096, Min: 0, Max: 64e9},
	{Name: "interface-eth0.if_octets.rx", Kind: Counter, Start: 1e9, Spread: 1e9, Rate: 50000, RateNoise: 20000, ResetEvery: 100000},
	{Name: "interface-eth0.if_octets.tx", Kind: Counter, Start: 1e9, Spread: 1e9, Rate: 20000, RateNoise: 10000, ResetEvery: 100000},
	{Name: "interface-eth0.if_packets.rx", Kind: Counter, Start: 1e6, Spread: 1e6, Rate: 100, RateNoise: 30, ResetEvery: 100000},
	{Name: "interface-eth0.if_packets.tx", Kind: Counter, Start: 1e6, Spread: 1e6, Rate: 60, RateNoise: 20, ResetEvery: 100000},
	{Name: "interface-eth0.if_errors.rx", Kind: Counter, Rate: 0, RateNoise: 0.4, ResetEvery: 100000},
	{Name: "interface-eth0.if_errors.tx", Kind: Counter, Rate: 0, RateNoise: 0.4, ResetEvery: 100000},
	{Name: "disk-sda.disk_ops.read", Kind: Counter, Start: 1e5, Spread: 1e5, Rate: 20, RateNoise: 10, ResetEvery: 100000},
	{Name: "disk-sda.disk_ops.write", Kind: Counter, Start: 1e5, Spread: 1e5, Rate: 50, RateNoise: 20, ResetEvery: 100000},
	{Name: "df-root.df_complex-used", Kind: Gauge, Start: 2e10, Spread: 5e9, Walk: 8192, Unit: 4096, Min: 0, Max: 1e12},
	{Name: "df-root.df_complex-free", Kind: Gauge, Start: 3e10, Spread: 5e9, Walk: 8192, Unit: 4096, Min: 0, Max: 1e12},
	{Name: "processes.ps_state-running", Kind: Gauge, Start: 2, Spread: 1, Walk: 0, Noise: 1, Min: 0, Max: 64},
	{Name: "processes.ps_state-sleeping", Kind: Gauge, Start: 200, Spread: 50, Walk: 0.5, Noise: 1, Min: 0, Max: 10000},
	{Name: "processes.ps_state-zombies", Kind: Gauge, Start: 0, Min: 0, Max: 64},
	{Name: "exec.backup.duration", Kind: Gauge, Start: 300, Spread: 100, Walk: 2, Noise: 20, Min: 0, Max: 1e5, Decimals: 3, Presence: 0.1, MeanRun: 6},
	{Name: "app.requests.errors", Kind: Counter, Rate: 0.5, RateNoise: 1, ResetEvery: 5000, Presence: 0.5, MeanRun: 30},
}

// CollectdCPUs is the number of cpu-N plugins per host in Collectd.
const CollectdCPUs = 4

// Collectd returns a collectd-shaped tree of hosts hosts:
// collectd.host-NNNN.<plugin>.<type> with 4 CPUs (user/system/wait/idle
// percentages, two decimals), load averages, memory and df in bytes
// (multiples of 4096), interface and disk counters with rare resets,
// process counts, and two sparse series (a backup duration present 10% of
// the time, an error counter present half the time): 38 series a host.
func Collectd(seed uint64, hosts int) *Dataset {
	var names []string
	var of []int
	for h := 0; h < hosts; h++ {
		for p, pr := range collectdProfiles {
			n := 1
			if p < 4 {
				n = CollectdCPUs
			}
			for c := 0; c < n; c++ {
				path := pr.Name
				if p < 4 {
					path = fmt.Sprintf(pr.Name, c)
				}
				names = append(names, fmt.Sprintf("collectd.host-%04d.%s", h, path))
				of = append(of, p)
			}
		}
	}
	d, err := New(seed, collectdProfiles, names, of)
	if err != nil {
		panic(err) // the profiles above are valid
	}
	return d
}
