package query

import (
	"errors"

	"github.com/plumbago/plumbago/ingest/tagged"
)

// TagSource resolves seriesByTag expressions to the canonical names of the
// tagged series that match them (graphite-web's TagDB.find_series). A
// Source that also implements TagSource answers seriesByTag; any other
// Source behaves like graphite-web's DummyTagDB (no tagged series).
type TagSource interface {
	FindSeries(exprs []string) ([]string, error)
}

// TaggedSource is a Source whose tagged series are listed by a tag index.
// The HTTP API also serves the /tags endpoints from its index.
type TaggedSource struct {
	Source
	Tags *tagged.TagIndex
}

// WithTags returns src with idx as its tag database.
func WithTags(src Source, idx *tagged.TagIndex) *TaggedSource {
	return &TaggedSource{Source: src, Tags: idx}
}

// FindSeries implements TagSource.
func (t *TaggedSource) FindSeries(exprs []string) ([]string, error) {
	if t.Tags == nil {
		return nil, nil
	}
	return t.Tags.FindSeries(exprs)
}

// TagIndex returns the tag index (nil if there is none).
func (t *TaggedSource) TagIndex() *tagged.TagIndex { return t.Tags }

// TagErrorMessage returns graphite-web's message for a tag database error:
// "Invalid tagspec <spec>", "At least one tagspec must not match the empty
// string", or err's own text.
func TagErrorMessage(err error) string {
	var te *tagged.TagspecError
	switch {
	case errors.As(err, &te):
		return "Invalid tagspec " + te.Spec
	case errors.Is(err, tagged.ErrAllMatchEmpty):
		return "At least one tagspec must not match the empty string"
	}
	return err.Error()
}
