package graph

// serifFamilies and monoFamilies are the family names (one a line) that
// fc-match resolves to DejaVu Serif and DejaVu Sans Mono on Debian 12:
// the generic names and every family named in /etc/fonts/conf.d that
// matched either (see fontFamily). The rest match DejaVu Sans.
const (
	serifFamilies = `
AR PL Mingti2L Big5
AR PL SungtiL GB
AR PL ZenKai Uni
AR PL Zenkai Uni
Badr
Baekmuk Batang
Bitstream Prima Serif
Bitstream Vera Serif
Caladea
Cambria
Constantia
DejaVu LGC Serif
DejaVu Serif
DejaVu Serif Condensed
Elephant
Ferdosi
FreeSerif
Garamond
Gelasio
Georgia
Hunky Serif
Jadid
Kochi Mincho
Liberation Serif
Lotoos
Luxi Serif
MS Serif
MgOpen Canonica
Mitra
NanumMyeongjo
Nazli
Nimbus Roman
Nimbus Roman No9 L
Olwen Serif
P052
Palatino
Palatino Linotype
Palladio URW
SUSE Serif
Sazanami Mincho
Serif
SimSun
TeX Gyre Pagella
TeX Gyre Termes
Thorndale
Thorndale AMT
Times
Times New Roman
Tinos
Titr
URW Palladio L
UnBatang
Verajja Serif
ZYSong18030
Zar
serif
ＭＳ 明朝
`
	monoFamilies = `
Andale Mono
Bepa Mono
Bitstream Prima Sans Mono
Bitstream Vera Sans Mono
Consolas
Courier
Courier New
Courier Std
Cousine
Cumberland
Cumberland AMT
DejaVu LGC Sans Mono
DejaVu Sans Mono
Fixedsys
FreeMono
Inconsolata
Liberation Mono
Luxi Mono
Mono
Monospace
NSimSun
NanumGothicCoding
Nimbus Mono
Nimbus Mono L
Nimbus Mono PS
Olwen Sans Mono
SUSE Sans Mono
TeX Gyre Cursor
Terminal
monospace
`
)
