package check

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Grafana's provisioning file formats (administration/provisioning), the
// fields deploy/grafana uses; decoding is strict.
type datasourcesFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string         `yaml:"name"`
		UID       string         `yaml:"uid"`
		Type      string         `yaml:"type"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		Editable  bool           `yaml:"editable"`
		JSONData  map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

type dashboardsFile struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

type prometheusFile struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// servicePorts is the port each compose service listens on inside the
// compose network.
func servicePorts(t *testing.T) map[string]string {
	t.Helper()
	def := servePortDefaults(t, filepath.Join(builtOut(t), "plumbago"))
	return map[string]string{"plumbago": portOf(t, def["http-addr"]), "prometheus": "9090", "grafana": "3000"}
}

func TestGrafanaProvisioning(t *testing.T) {
	c := loadCompose(t)
	g := c.Services["grafana"]
	ports := servicePorts(t)

	dsDir, _ := g.mountOf("/etc/grafana/provisioning/datasources")
	files, _ := filepath.Glob(filepath.Join(hostPath(t, dsDir), "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("%d datasource files in %s, want 1", len(files), dsDir)
	}
	var ds datasourcesFile
	decodeStrict(t, files[0], &ds)
	if ds.APIVersion != 1 {
		t.Errorf("datasources apiVersion %d, want 1", ds.APIVersion)
	}
	defaults := 0
	byType := map[string]int{}
	for _, d := range ds.Datasources {
		byType[d.Type]++
		if d.IsDefault {
			defaults++
		}
		if d.Access != "proxy" {
			t.Errorf("%s: access %q, want proxy (the browser cannot reach compose service names)", d.Name, d.Access)
		}
		if d.UID == "" {
			t.Errorf("%s: no uid (the dashboard refers to data sources by uid)", d.Name)
		}
		serviceURL(t, c, d.URL, ports)
		switch d.Type {
		case "graphite":
			if !d.IsDefault {
				t.Errorf("%s: the Graphite data source should be the default", d.Name)
			}
			// Grafana reads graphiteVersion as a string; "1.1" turns on tags
			// (seriesByTag, /tags) and the /functions index.
			if v, ok := d.JSONData["graphiteVersion"].(string); !ok || v != "1.1" {
				t.Errorf("%s: jsonData.graphiteVersion %#v, want the string \"1.1\"", d.Name, d.JSONData["graphiteVersion"])
			}
			if v := d.JSONData["graphiteType"]; v != "default" {
				t.Errorf("%s: jsonData.graphiteType %#v, want \"default\"", d.Name, v)
			}
			if !strings.HasPrefix(d.URL, "http://plumbago:") {
				t.Errorf("%s: url %q, want plumbago", d.Name, d.URL)
			}
		case "prometheus":
		default:
			t.Errorf("%s: unexpected data source type %q", d.Name, d.Type)
		}
	}
	if defaults != 1 || byType["graphite"] != 1 || byType["prometheus"] != 1 {
		t.Errorf("%d default data sources, types %v; want one default, one graphite, one prometheus", defaults, byType)
	}

	dbDir, _ := g.mountOf("/etc/grafana/provisioning/dashboards")
	files, _ = filepath.Glob(filepath.Join(hostPath(t, dbDir), "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("%d dashboard provider files in %s, want 1", len(files), dbDir)
	}
	var db dashboardsFile
	decodeStrict(t, files[0], &db)
	if db.APIVersion != 1 || len(db.Providers) != 1 {
		t.Fatalf("dashboard providers: apiVersion %d, %d providers", db.APIVersion, len(db.Providers))
	}
	pr := db.Providers[0]
	if pr.Type != "file" {
		t.Errorf("provider type %q, want file", pr.Type)
	}
	jsons, _ := filepath.Glob(filepath.Join(containerToHost(t, g, pr.Options.Path+"/x"), "..", "*.json"))
	if len(jsons) == 0 {
		t.Errorf("provider path %s holds no dashboard JSON", pr.Options.Path)
	}
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readFile(t, deployPath(t, "grafana", "dashboards", "plumbago-health.json")), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// externalMetrics are the names the dashboard may use that Plumbago does
// not emit, with the scrape job that provides them.
var externalMetrics = map[string]string{
	"up": "plumbago", // Prometheus's own per-target health
}

// TestDashboardMetricsAreEmitted starts the real plumbago, scrapes /metrics
// and checks that every metric and label the health dashboard queries is
// really there.
func TestDashboardMetricsAreEmitted(t *testing.T) {
	// The dashboard must work on either backend: only metrics both emit.
	var emitted map[string]map[string]map[string]bool
	for _, backend := range []string{"pebble", "whisper"} {
		p := startPlumbago(t, backend)
		p.sendCarbon(t, "deploy.check.ok 1 1700000000\nthis line is malformed\n")
		e := p.scrape(t)
		t.Logf("plumbago (%s) emits %v", backend, e.names())
		if emitted == nil {
			emitted = e.samples
			continue
		}
		for name := range emitted {
			if e.samples[name] == nil {
				delete(emitted, name)
			}
		}
	}

	var prom prometheusFile
	decodeStrict(t, deployPath(t, "prometheus", "prometheus.yml"), &prom)
	jobs := map[string]string{}
	for _, sc := range prom.ScrapeConfigs {
		if sc.MetricsPath != "/metrics" || len(sc.StaticConfigs) != 1 || len(sc.StaticConfigs[0].Targets) != 1 {
			t.Fatalf("scrape job %s: want one target's /metrics", sc.JobName)
		}
		jobs[sc.JobName] = sc.StaticConfigs[0].Targets[0]
	}
	ports := servicePorts(t)
	for job, target := range jobs {
		serviceURL(t, loadCompose(t), "http://"+target, ports)
		if !strings.HasPrefix(target, job+":") {
			t.Errorf("job %s scrapes %s", job, target)
		}
	}

	var ds datasourcesFile
	decodeStrict(t, deployPath(t, "grafana", "provisioning", "datasources", "plumbago.yaml"), &ds)
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.Type
	}

	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("dashboard uid %q title %q schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	var titles []string
	for _, pn := range d.Panels {
		if ids[pn.ID] {
			t.Errorf("panel id %d used twice", pn.ID)
		}
		ids[pn.ID] = true
		if pn.GridPos.X < 0 || pn.GridPos.W <= 0 || pn.GridPos.X+pn.GridPos.W > 24 || pn.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v outside Grafana's 24 columns", pn.Title, pn.GridPos)
		}
		if pn.Type == "row" {
			continue
		}
		titles = append(titles, pn.Title)
		if pn.Datasource == nil || uids[pn.Datasource.UID] != pn.Datasource.Type {
			t.Errorf("panel %q: data source %+v is not a provisioned one", pn.Title, pn.Datasource)
			continue
		}
		if len(pn.Targets) == 0 {
			t.Errorf("panel %q has no query", pn.Title)
		}
		for _, tg := range pn.Targets {
			refs, err := PromRefs(tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %q: %v", pn.Title, tg.Expr, err)
				continue
			}
			if len(refs.Selectors) == 0 {
				t.Errorf("panel %q: %q selects no metric", pn.Title, tg.Expr)
			}
			labelsSeen := map[string]bool{"job": true, "instance": true}
			for _, sel := range refs.Selectors {
				used[sel.Metric] = true
				if job, ok := externalMetrics[sel.Metric]; ok {
					if _, ok := jobs[job]; !ok {
						t.Errorf("panel %q: %s comes from job %q, which Prometheus does not scrape", pn.Title, sel.Metric, job)
					}
					if !strings.Contains(tg.Expr, `job="`+job+`"`) {
						t.Errorf("panel %q: %s is not restricted to job=%q", pn.Title, sel.Metric, job)
					}
					if strings.HasPrefix(sel.Metric, "grafana_datasource_") &&
						!strings.Contains(tg.Expr, `datasource="`+graphiteName(ds)+`"`) {
						t.Errorf("panel %q: %s is not restricted to the Graphite data source", pn.Title, sel.Metric)
					}
					for _, l := range sel.Labels {
						labelsSeen[l] = true
					}
					labelsSeen["le"] = true
					continue
				}
				labels, ok := emitted[sel.Metric]
				if !ok {
					t.Errorf("panel %q: plumbago does not emit %s", pn.Title, sel.Metric)
					continue
				}
				if !strings.Contains(tg.Expr, sel.Metric+`{job="plumbago"`) {
					t.Errorf("panel %q: %s is not restricted to job=\"plumbago\"", pn.Title, sel.Metric)
				}
				for _, l := range sel.Labels {
					if l != "job" && l != "instance" && labels[l] == nil {
						t.Errorf("panel %q: %s has no label %q", pn.Title, sel.Metric, l)
					}
				}
				for l := range labels {
					labelsSeen[l] = true
				}
			}
			for _, l := range refs.Grouping {
				if !labelsSeen[l] {
					t.Errorf("panel %q: groups by %q, which none of its metrics has", pn.Title, l)
				}
			}
		}
	}
	// The minimum picture.
	for _, want := range []string{"Ingest rate", "Committed points", "Drops by reason", "Queue depth", "Query latency"} {
		if !slices.ContainsFunc(titles, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no %q panel", want)
		}
	}
	for _, m := range []string{"plumbago_points_received_total", "plumbago_points_committed_total", "plumbago_points_dropped_total"} {
		if !used[m] {
			t.Errorf("the dashboard does not use %s", m)
		}
	}
}

func graphiteName(ds datasourcesFile) string {
	for _, d := range ds.Datasources {
		if d.Type == "graphite" {
			return d.Name
		}
	}
	return ""
}

// TestGraphiteDashboardRenders checks the dashboard that reads Plumbago's
// carbon-style self-metrics through the Graphite data source: with the
// self-metric interval at 1 s, every target of every panel is rendered by
// the real server and must return at least one series with data.
func TestGraphiteDashboardRenders(t *testing.T) {
	var d dashboard
	var raw struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Target string `json:"target"`
			} `json:"targets"`
		} `json:"panels"`
	}
	src := readFile(t, deployPath(t, "grafana", "dashboards", "plumbago-carbon.json"))
	if err := json.Unmarshal(src, &d); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(src, &raw); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.UID == loadDashboard(t).UID {
		t.Errorf("dashboard uid %q must be set and differ from the health dashboard's", d.UID)
	}
	cfg := filepath.Join(t.TempDir(), "plumbago.toml")
	if err := os.WriteFile(cfg, []byte("[carbon]\nmetric-interval = \"1s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPlumbago(t, "pebble", "--config="+cfg)
	render := func(target string) (series int, withData int) {
		u := "http://" + p.httpAddr + "/render?noCache=1&format=json&from=-5min&target=" + url.QueryEscape(target)
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("render %q: %s: %s", target, resp.Status, body)
			return 0, 0
		}
		var out []struct {
			Target     string        `json:"target"`
			Datapoints [][2]*float64 `json:"datapoints"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("render %q: %v: %s", target, err, body)
		}
		for _, s := range out {
			for _, dp := range s.Datapoints {
				if dp[0] != nil {
					withData++
					break
				}
			}
		}
		return len(out), withData
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, n := render("carbon.agents.*.metricsReceived"); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no carbon.agents.*.metricsReceived after 15 s with a 1 s interval")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // one more report, so every self-metric exists
	targets := 0
	for _, pn := range raw.Panels {
		if pn.Datasource.Type != "graphite" || pn.Datasource.UID != "plumbago" {
			t.Errorf("panel %q: data source %+v, want the provisioned Graphite one", pn.Title, pn.Datasource)
		}
		for _, tg := range pn.Targets {
			targets++
			series, withData := render(tg.Target)
			if series == 0 || withData == 0 {
				t.Errorf("panel %q: %s renders %d series, %d with data", pn.Title, tg.Target, series, withData)
			}
		}
	}
	if targets == 0 {
		t.Error("no targets")
	}
}
