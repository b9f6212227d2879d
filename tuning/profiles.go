package tuning

import "sort"

// Profile is a cloud instance type an operator may size for without being on it.
type Profile struct {
	Name        string
	CPUs        int
	MemoryBytes int64
	Note        string
}

// Profiles are the instance types the classic stack ran on (c3.xlarge) and
// their current equivalents. Figures are the published vCPU and memory sizes.
var Profiles = map[string]Profile{
	"c3.xlarge":  {"c3.xlarge", 4, 7680 * MiB, "the seed's instance: 4 vCPU (Ivy Bridge), 7.5 GiB, 2x40 GB instance SSD"},
	"c5.large":   {"c5.large", 2, 4 * GiB, "2 vCPU, 4 GiB, EBS only"},
	"c5.xlarge":  {"c5.xlarge", 4, 8 * GiB, "4 vCPU, 8 GiB, EBS only"},
	"c6i.large":  {"c6i.large", 2, 4 * GiB, "2 vCPU, 4 GiB, EBS only"},
	"c6i.xlarge": {"c6i.xlarge", 4, 8 * GiB, "4 vCPU, 8 GiB, EBS only"},
	"c7i.large":  {"c7i.large", 2, 4 * GiB, "2 vCPU, 4 GiB, EBS only"},
	"c7i.xlarge": {"c7i.xlarge", 4, 8 * GiB, "4 vCPU, 8 GiB, EBS only"},
}

// Machine returns the profile as a Machine to pass to Derive.
func (p Profile) Machine() Machine {
	return Machine{CPUs: p.CPUs, MemoryBytes: p.MemoryBytes, Name: p.Name,
		CPUSource: "profile " + p.Name, MemorySource: "profile " + p.Name}
}

// ProfileNames returns the profile names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
