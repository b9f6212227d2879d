package graph

import (
	"errors"

	"github.com/plumbago/plumbago/query"
)

func renderPie(list []*query.Series, p *Params) ([]byte, error) {
	return nil, errors.New("graph: pie is not drawn yet")
}

// PieSlice is a literal pie slice from a name:value target.
func PieSlice(name string, v float64) *query.Series {
	s := query.NewSeries(name, 0, 1, 1, []float64{v}, 0)
	s.Graph.Stacked = false
	return s
}
