package check

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"gopkg.in/yaml.v3"
)

// tfModule is the Terraform example, parsed: what `terraform validate`
// checks that needs no provider schema (syntax, block structure, references
// to declared variables, locals, resources and data sources, function
// names, files named by file/templatefile).
type tfModule struct {
	dir       string
	files     map[string][]byte
	variables map[string]*hclsyntax.Body
	outputs   map[string]*hclsyntax.Body
	locals    map[string]hcl.Expression
	resources map[string]*hclsyntax.Body // "type.name"
	data      map[string]*hclsyntax.Body // "type.name"
	bodies    []*hclsyntax.Body          // every body, for reference checks
}

var tfSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "terraform"},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
}}

func loadTerraform(t *testing.T) *tfModule {
	t.Helper()
	m := &tfModule{
		dir: deployPath(t, "terraform"), files: map[string][]byte{},
		variables: map[string]*hclsyntax.Body{}, outputs: map[string]*hclsyntax.Body{}, locals: map[string]hcl.Expression{},
		resources: map[string]*hclsyntax.Body{}, data: map[string]*hclsyntax.Body{},
	}
	paths, _ := filepath.Glob(filepath.Join(m.dir, "*.tf"))
	if len(paths) == 0 {
		t.Fatal("no .tf files")
	}
	p := hclparse.NewParser()
	for _, path := range paths {
		src := readFile(t, path)
		m.files[path] = src
		f, diags := p.ParseHCL(src, path)
		if diags.HasErrors() {
			t.Fatalf("%s", diags.Error())
		}
		content, diags := f.Body.Content(tfSchema)
		if diags.HasErrors() {
			t.Fatalf("%s", diags.Error())
		}
		for _, b := range content.Blocks {
			body := b.Body.(*hclsyntax.Body)
			m.bodies = append(m.bodies, body)
			key := strings.Join(b.Labels, ".")
			var dup bool
			switch b.Type {
			case "variable":
				_, dup = m.variables[key]
				m.variables[key] = body
			case "output":
				_, dup = m.outputs[key]
				m.outputs[key] = body
			case "resource":
				_, dup = m.resources[key]
				m.resources[key] = body
			case "data":
				_, dup = m.data[key]
				m.data[key] = body
			case "locals":
				for name, a := range body.Attributes {
					if _, ok := m.locals[name]; ok {
						dup = true
					}
					m.locals[name] = a.Expr
				}
			}
			if dup {
				t.Errorf("%s %q declared twice", b.Type, key)
			}
		}
	}
	return m
}

// tfFunctions are Terraform built-in functions this check accepts.
var tfFunctions = map[string]bool{
	"abs": true, "base64encode": true, "can": true, "cidrsubnet": true, "coalesce": true, "concat": true,
	"contains": true, "distinct": true, "element": true, "file": true, "filebase64": true, "flatten": true,
	"format": true, "indent": true, "join": true, "jsonencode": true, "keys": true, "length": true,
	"lookup": true, "lower": true, "max": true, "merge": true, "min": true, "replace": true, "split": true,
	"templatefile": true, "tolist": true, "tomap": true, "toset": true, "tostring": true, "trimspace": true,
	"try": true, "upper": true, "values": true, "yamlencode": true,
}

func traversalRoot(tr hcl.Traversal) (root string, attrs []string) {
	root = tr.RootName()
	for _, s := range tr[1:] {
		if a, ok := s.(hcl.TraverseAttr); ok {
			attrs = append(attrs, a.Name)
		} else {
			break
		}
	}
	return root, attrs
}

func TestTerraformFormatted(t *testing.T) {
	m := loadTerraform(t)
	for path, src := range m.files {
		if got := hclwrite.Format(src); !bytes.Equal(got, src) {
			t.Errorf("%s is not formatted as terraform fmt formats it; formatted:\n%s", filepath.Base(path), got)
		}
	}
}

func TestTerraformReferences(t *testing.T) {
	m := loadTerraform(t)
	// Variable type constraints are type expressions, not references.
	var typeExprs []hcl.Range
	for name, v := range m.variables {
		if a := v.Attributes["type"]; a != nil {
			typeExprs = append(typeExprs, a.Expr.Range())
			if _, diags := typeexpr.TypeConstraint(a.Expr); diags.HasErrors() {
				t.Errorf("variable %s: %s", name, diags.Error())
			}
		}
	}
	inTypeExpr := func(r hcl.Range) bool {
		return slices.ContainsFunc(typeExprs, func(tr hcl.Range) bool {
			return tr.Filename == r.Filename && tr.Start.Byte <= r.Start.Byte && r.End.Byte <= tr.End.Byte
		})
	}
	// A for expression's iterators are references inside it.
	type forScope struct {
		names []string
		rng   hcl.Range
	}
	var forScopes []forScope
	for _, body := range m.bodies {
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if e, ok := n.(*hclsyntax.ForExpr); ok {
				forScopes = append(forScopes, forScope{[]string{e.KeyVar, e.ValVar}, e.SrcRange})
			}
			return nil
		})
	}
	iterator := func(name string, r hcl.Range) bool {
		return slices.ContainsFunc(forScopes, func(f forScope) bool {
			return slices.Contains(f.names, name) && f.rng.Filename == r.Filename &&
				f.rng.Start.Byte <= r.Start.Byte && r.End.Byte <= f.rng.End.Byte
		})
	}
	for _, body := range m.bodies {
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if inTypeExpr(n.Range()) {
				return nil
			}
			switch e := n.(type) {
			case *hclsyntax.FunctionCallExpr:
				if !tfFunctions[e.Name] {
					t.Errorf("%s: unknown function %s", e.Range(), e.Name)
				}
			case *hclsyntax.ScopeTraversalExpr:
				root, attrs := traversalRoot(e.Traversal)
				if root != "" && iterator(root, e.SrcRange) {
					return nil
				}
				need := func(n int) bool {
					if len(attrs) < n {
						t.Errorf("%s: incomplete reference %s", e.SrcRange, root)
						return false
					}
					return true
				}
				switch root {
				case "var":
					if need(1) && m.variables[attrs[0]] == nil {
						t.Errorf("%s: undeclared variable %s", e.SrcRange, attrs[0])
					}
				case "local":
					if need(1) && m.locals[attrs[0]] == nil {
						t.Errorf("%s: undeclared local %s", e.SrcRange, attrs[0])
					}
				case "data":
					if need(2) && m.data[attrs[0]+"."+attrs[1]] == nil {
						t.Errorf("%s: undeclared data source %s.%s", e.SrcRange, attrs[0], attrs[1])
					}
				case "path", "each", "count", "self", "terraform":
				default:
					if strings.HasPrefix(root, "aws_") {
						if need(1) && m.resources[root+"."+attrs[0]] == nil {
							t.Errorf("%s: undeclared resource %s.%s", e.SrcRange, root, attrs[0])
						}
					} else {
						t.Errorf("%s: unknown reference %s", e.SrcRange, root)
					}
				}
			}
			return nil
		})
	}
	for name, v := range m.variables {
		for _, attr := range []string{"description", "type"} {
			if v.Attributes[attr] == nil {
				t.Errorf("variable %s has no %s", name, attr)
			}
		}
	}
	for name, o := range m.outputs {
		if o.Attributes["value"] == nil || o.Attributes["description"] == nil {
			t.Errorf("output %s needs value and description", name)
		}
	}
}

// traversalString renders a reference such as var.instance_type.
func traversalString(e hcl.Expression) string {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	root, attrs := traversalRoot(st.Traversal)
	return strings.Join(append([]string{root}, attrs...), ".")
}

func constValue(t *testing.T, e hcl.Expression) cty.Value {
	t.Helper()
	v, diags := e.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", e.Range(), diags.Error())
	}
	return v
}

func attr(t *testing.T, b *hclsyntax.Body, name string) hcl.Expression {
	t.Helper()
	a := b.Attributes[name]
	if a == nil {
		t.Fatalf("%s: no attribute %s", b.SrcRange, name)
	}
	return a.Expr
}

func only(t *testing.T, m map[string]*hclsyntax.Body, typ string) (string, *hclsyntax.Body) {
	t.Helper()
	var found []string
	for k := range m {
		if strings.HasPrefix(k, typ+".") {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s resources, want 1", len(found), typ)
	}
	return found[0], m[found[0]]
}

func TestTerraformInstanceAndVolume(t *testing.T) {
	m := loadTerraform(t)
	if v := m.variables["instance_type"]; v == nil {
		t.Fatal("no instance_type variable")
	} else if def := constValue(t, attr(t, v, "default")); def != cty.StringVal("c5.xlarge") {
		t.Errorf("instance_type default %#v, want c5.xlarge", def)
	}
	instKey, inst := only(t, m.resources, "aws_instance")
	if got := traversalString(attr(t, inst, "instance_type")); got != "var.instance_type" {
		t.Errorf("instance_type = %s", got)
	}
	volKey, vol := only(t, m.resources, "aws_ebs_volume")
	if a, b := traversalString(attr(t, inst, "availability_zone")), traversalString(attr(t, vol, "availability_zone")); a == "" || a != b {
		t.Errorf("instance in %q, volume in %q: an EBS volume attaches only in its own zone", a, b)
	}
	// The volume must outlive the instance: its own resource, guarded.
	var guarded bool
	for _, b := range vol.Blocks {
		if b.Type == "lifecycle" && b.Body.Attributes["prevent_destroy"] != nil {
			guarded = constValue(t, b.Body.Attributes["prevent_destroy"].Expr) == cty.True
		}
	}
	if !guarded {
		t.Error("aws_ebs_volume has no lifecycle { prevent_destroy = true }")
	}
	for _, b := range inst.Blocks {
		if b.Type == "ebs_block_device" {
			t.Error("aws_instance declares an ebs_block_device: that volume dies with the instance")
		}
	}
	_, att := only(t, m.resources, "aws_volume_attachment")
	if got := traversalString(attr(t, att, "volume_id")); got != "aws_ebs_volume."+strings.TrimPrefix(volKey, "aws_ebs_volume.")+".id" {
		t.Errorf("attachment volume_id = %s", got)
	}
	if got := traversalString(attr(t, att, "instance_id")); got != instKey+".id" {
		t.Errorf("attachment instance_id = %s", got)
	}
	// Security group rules for every listener, with one network allowed
	// each: one rule a port.
	var rules []string
	for k, rule := range ingressRules(t, m, cty.ListVal([]cty.Value{cty.StringVal("192.0.2.0/24")})) {
		proto := rule["ip_protocol"].AsString()
		from, _ := rule["from_port"].AsBigFloat().Int64()
		to, _ := rule["to_port"].AsBigFloat().Int64()
		if from != to {
			t.Errorf("%s opens a port range %d-%d", k, from, to)
		}
		if cidr := rule["cidr_ipv4"]; cidr != cty.StringVal("192.0.2.0/24") {
			t.Errorf("%s allows %#v, want the variable's 192.0.2.0/24", k, cidr)
		}
		rules = append(rules, fmt.Sprintf("%d/%s", from, proto))
	}
	sort.Strings(rules)
	want := append(expectedPorts(t, filepath.Join(builtOut(t), "plumbago")), "22/tcp")
	sort.Strings(want)
	if !slices.Equal(rules, want) {
		t.Errorf("ingress rules %v, want %v", rules, want)
	}
	// Outputs give the address.
	var addr bool
	for _, o := range m.outputs {
		if s := traversalString(o.Attributes["value"].Expr); s == instKey+".public_ip" {
			addr = true
		}
	}
	if !addr {
		t.Errorf("no output with %s.public_ip", instKey)
	}
}

// ingressRules evaluates every aws_vpc_security_group_ingress_rule instance
// as Terraform would plan it, with each *_cidrs variable set to cidrs:
// the rule's address (with its for_each key) to its ip_protocol,
// from_port, to_port and cidr_ipv4.
func ingressRules(t *testing.T, m *tfModule, cidrs cty.Value) map[string]map[string]cty.Value {
	t.Helper()
	vars := map[string]cty.Value{}
	for name := range m.variables {
		if strings.HasSuffix(name, "_cidrs") {
			vars[name] = cty.ListVal(cidrs.AsValueSlice())
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: map[string]function.Function{"merge": stdlib.MergeFunc},
	}
	// Locals in dependency order: each round evaluates those whose
	// references are known; the ones naming resources never are.
	locals := map[string]cty.Value{}
	for progress := true; progress; {
		progress = false
		for name, e := range m.locals {
			if _, done := locals[name]; done {
				continue
			}
			ctx.Variables["local"] = cty.ObjectVal(locals)
			if v, diags := e.Value(ctx); !diags.HasErrors() {
				locals[name], progress = v, true
			}
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	eval := func(b *hclsyntax.Body, ctx *hcl.EvalContext) map[string]cty.Value {
		out := map[string]cty.Value{}
		for _, a := range []string{"ip_protocol", "from_port", "to_port", "cidr_ipv4"} {
			v, diags := attr(t, b, a).Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("%s: %s", b.SrcRange, diags.Error())
			}
			out[a] = v
		}
		return out
	}
	rules := map[string]map[string]cty.Value{}
	for k, b := range m.resources {
		if !strings.HasPrefix(k, "aws_vpc_security_group_ingress_rule.") {
			continue
		}
		fe, ok := b.Attributes["for_each"]
		if !ok {
			rules[k] = eval(b, ctx)
			continue
		}
		each, diags := fe.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s for_each: %s", k, diags.Error())
		}
		for key, v := range each.AsValueMap() {
			ectx := ctx.NewChild()
			ectx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": v})}
			rules[fmt.Sprintf("%s[%q]", k, key)] = eval(b, ectx)
		}
	}
	return rules
}

// renderCloudInit evaluates the instance's templatefile(...) call as
// Terraform would, with the given locals.
func renderCloudInit(t *testing.T, m *tfModule, locals map[string]cty.Value) string {
	t.Helper()
	_, inst := only(t, m.resources, "aws_instance")
	call, ok := attr(t, inst, "user_data").(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "templatefile" || len(call.Args) != 2 {
		t.Fatal("user_data is not templatefile(path, vars)")
	}
	fileFn := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := os.ReadFile(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(string(b)), nil
		},
	})
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir)}),
			"local": cty.ObjectVal(locals),
		},
		Functions: map[string]function.Function{"file": fileFn},
	}
	pathV, diags := call.Args[0].Value(ctx)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	varsV, diags := call.Args[1].Value(ctx)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	src := readFile(t, pathV.AsString())
	tmpl, diags := hclsyntax.ParseTemplate(src, pathV.AsString(), hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, tr := range tmpl.Variables() {
		if !varsV.Type().HasAttribute(tr.RootName()) {
			t.Errorf("template uses %s, which templatefile() does not pass", tr.RootName())
		}
	}
	out, diags := tmpl.Value(&hcl.EvalContext{
		Variables: varsV.AsValueMap(),
		Functions: map[string]function.Function{"indent": stdlib.IndentFunc},
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return out.AsString()
}

type cloudConfig struct {
	PackageUpdate bool     `yaml:"package_update"`
	Packages      []string `yaml:"packages"`
	WriteFiles    []struct {
		Path        string `yaml:"path"`
		Permissions string `yaml:"permissions"`
		Content     string `yaml:"content"`
	} `yaml:"write_files"`
	Runcmd [][]string `yaml:"runcmd"`
}

func TestTerraformCloudInit(t *testing.T) {
	m := loadTerraform(t)
	for _, l := range []string{"data_volume_serial", "download_url"} {
		if m.locals[l] == nil {
			t.Fatalf("no local %s", l)
		}
	}
	const serial = "vol0123456789abcdef0"
	out := renderCloudInit(t, m, map[string]cty.Value{
		"data_volume_serial": cty.StringVal(serial),
		"download_url":       cty.StringVal("https://example.invalid/plumbago"),
	})
	if !strings.HasPrefix(out, "#cloud-config\n") {
		t.Fatalf("user data does not start with #cloud-config:\n%.200s", out)
	}
	var cc cloudConfig
	dec := yaml.NewDecoder(strings.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("rendered cloud-config: %v\n%s", err, out)
	}
	files := map[string]string{}
	for _, f := range cc.WriteFiles {
		files[f.Path] = f.Content
	}
	// The unit and config land on the instance byte for byte.
	for dst, src := range map[string]string{
		"/etc/systemd/system/plumbago.service": deployPath(t, "systemd", "plumbago.service"),
		"/etc/plumbago/plumbago.toml":          deployPath(t, "systemd", "plumbago.toml"),
	} {
		if got, want := files[dst], string(readFile(t, src)); got != want {
			t.Errorf("cloud-init writes %s differently from %s:\n%s", dst, src, got)
		}
	}
	script, ok := files["/usr/local/sbin/plumbago-mount-data"]
	if !ok {
		t.Fatal("no mount script")
	}
	if !strings.Contains(script, `serial="`+serial+`"`) {
		t.Error("mount script does not look the volume up by its serial")
	}
	if !strings.Contains(script, "if ! blkid") {
		t.Error("mount script formats without checking for a filesystem first")
	}
	sh := exec.Command("sh", "-n")
	sh.Stdin = strings.NewReader(script)
	if b, err := sh.CombinedOutput(); err != nil {
		t.Errorf("mount script: sh -n: %v\n%s", err, b)
	}
	// Commands in order: mount the volume, install, then start.
	var order []string
	for _, c := range cc.Runcmd {
		order = append(order, strings.Join(c, " "))
	}
	idx := func(s string) int {
		return slices.IndexFunc(order, func(c string) bool { return strings.Contains(c, s) })
	}
	mount, install, start := idx("plumbago-mount-data"), idx("-o /usr/local/bin/plumbago"), idx("enable --now plumbago.service")
	if mount < 0 || install < 0 || start < 0 || !(mount < start && install < start) {
		t.Errorf("runcmd %q: want the volume mounted and the binary installed before plumbago starts", order)
	}
	// The kernel settings are at least what `plumbago tune` asks for.
	sysctl, ok := files["/etc/sysctl.d/90-plumbago.conf"]
	if !ok {
		t.Fatal("no sysctl file")
	}
	set := map[string]int64{}
	for _, l := range strings.Split(sysctl, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("sysctl %q: %v", l, err)
			}
			set[strings.TrimSpace(k)] = n
		}
	}
	tune, err := exec.Command(filepath.Join(builtOut(t), "plumbago"), "tune").CombinedOutput()
	if err != nil {
		t.Fatalf("plumbago tune: %v\n%s", err, tune)
	}
	wants := regexp.MustCompile(`(?m)^\s*\S+\s+(net\.\S+)\s+\S+\s+want >= (\d+)`).FindAllStringSubmatch(string(tune), -1)
	if len(wants) == 0 {
		t.Fatalf("no net.* wants in plumbago tune:\n%s", tune)
	}
	for _, w := range wants {
		n, _ := strconv.ParseInt(w[2], 10, 64)
		if set[w[1]] < n {
			t.Errorf("cloud-init sets %s = %d, plumbago tune wants >= %d", w[1], set[w[1]], n)
		}
	}
	// The data directory the unit may write is on the mounted volume.
	unit := string(readFile(t, deployPath(t, "systemd", "plumbago.service")))
	if !strings.Contains(unit, "RequiresMountsFor=/data") || !strings.Contains(script, "mkdir -p /data/plumbago") {
		t.Error("unit and mount script disagree on /data")
	}
}

// TestTerraformWithTerraform runs the real tool. Terraform is in neither
// Debian nor npm, so scripts/test-deps.sh cannot install it: this machine
// kind has it in /usr/local/bin, and where it is missing the test skips
// (fails under CI=true); TestTerraformFormatted checks the same
// formatting with HCL's own formatter everywhere.
func TestTerraformWithTerraform(t *testing.T) {
	testenv.Command(t, "terraform", "not in Debian or npm; HashiCorp's binary")
	dir := deployPath(t, "terraform")
	if b, err := exec.Command("terraform", "-chdir="+dir, "fmt", "-check", "-diff").CombinedOutput(); err != nil {
		t.Errorf("terraform fmt -check: %v\n%s", err, b)
	}
}
