module github.com/plumbago/plumbago

go 1.26.8
