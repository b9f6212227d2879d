// Package pickleenc writes Python pickles (protocol 2, no memo): the one
// encoder for every pickle Plumbago writes — graphite-web's cluster API
// (/render and /metrics/find with format=pickle, query/api), carbonlink's
// replies to graphite-web (ingest/carbonlink) and carbon's pickle protocol
// frames the load generator sends (loadtest). The safe decoder of carbon's
// pickle traffic is ingest/pickle.
package pickleenc
