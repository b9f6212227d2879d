package tagged

import (
	"errors"
	"fmt"
	"testing"
)

// IDs follow graphite-web's LocalDatabaseTagDB on sqlite: each new series
// attempts one insert per tag and per value (canonical segments, then its
// name, or the client's order with AddInOrder), every attempt uses up a
// number, one value numbering across tags; deleted series leave their tags
// listed.
func TestIDsAndDeletedTags(t *testing.T) {
	x := NewTagIndex()
	for _, n := range []string{"cpu;host=a;dc=eu", "mem;host=b", "cpu;host=b;dc=eu", "mem;host=b"} {
		c, err := Normalize(nil, []byte(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.AddInOrder([]byte("disk;rack=r;zone=z"), []string{"zone", "name", "rack"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range []string{"dc", "host", "name", "zone", "rack", "nope"} {
		id, ok := x.TagID(tg)
		got = append(got, fmt.Sprintf("%s=%d/%v", tg, id, ok))
	}
	for _, v := range []string{"eu", "a", "cpu", "b", "mem", "z", "disk", "r", "nope"} {
		id, ok := x.ValueID(v)
		got = append(got, fmt.Sprintf("%s=%d/%v", v, id, ok))
	}
	want := "[dc=1/true host=2/true name=3/true zone=9/true rack=11/true nope=0/false " +
		"eu=1/true a=2/true cpu=3/true b=4/true mem=5/true z=9/true disk=10/true r=11/true nope=0/false]"
	if fmt.Sprint(got) != want {
		t.Errorf("ids %v\nwant %s", got, want)
	}
	x.Delete("cpu;dc=eu;host=a")
	x.Delete("cpu;dc=eu;host=b")
	tags, _ := x.ListTags("", 0)
	vals, _ := x.ListValues("dc", "", 0)
	if fmt.Sprint(tags, vals) != "[dc host name rack zone] []" {
		t.Errorf("after delete: %v %v", tags, vals)
	}
}

func TestFindErrors(t *testing.T) {
	x := NewTagIndex()
	_, err := x.FindSeries([]string{"a=b", "bad"})
	var te *TagspecError
	if !errors.As(err, &te) || te.Spec != "bad" {
		t.Errorf("bad tagspec: %v", err)
	}
	if _, err := x.FindSeries([]string{"a="}); !errors.Is(err, ErrAllMatchEmpty) {
		t.Errorf("all match empty: %v", err)
	}
	if _, err := x.FindSeries(nil); !errors.Is(err, ErrAllMatchEmpty) {
		t.Errorf("no exprs: %v", err)
	}
}
