# Bar chart of the scenarios' rates against the machine's ceilings, log scale.
# Called as: gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" chart.gp
# datafile: tab-separated lines "label<TAB>rate<TAB>kind", kind 1 = scenario, 2 = ceiling.
set terminal pngcairo size 1100,620 font "DejaVu Sans,10"
set output outfile
set datafile separator "\t"
set title "make bench: scenarios (blue) against the machine's ceilings (orange)\n" . subtitle
set style fill solid 0.85 border -1
set boxwidth 0.7
set logscale y
set format y "%.0s%c"
set ylabel "requests/s (drain: messages/s; pgbench: transactions/s)"
set grid ytics mytics
set xtics rotate by 20 right nomirror
stats datafile using 2 nooutput
set xrange [-0.6:STATS_records - 0.4]
set yrange [10:STATS_max * 5]
set key top left
set bmargin 8
color(kind) = kind == 1 ? 0x3b7dd8 : 0xe08a2c
plot datafile using 0:2:(color($3)):xtic(1) with boxes lc rgb variable notitle, \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle, \
     NaN with boxes lc rgb "#3b7dd8" title "scenario", \
     NaN with boxes lc rgb "#e08a2c" title "ceiling"
