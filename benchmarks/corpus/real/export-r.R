# Exports real series of R's 'datasets' package (Debian r-base-core 4.2.2.20221110-2) into the corpus
# text format (see README.md). Usage: Rscript export-r.R <output file>
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript export-r.R <output file>")
out <- file(args[1], "w")
writeLines("# Converted by export-r.R; see README.md for provenance and licences.", out)

# Seconds since 1970 for the i-th observation of a regular ts: calendar months and quarters, whole
# years, otherwise the given step in seconds from the given start.
epoch <- function(y, m, d) as.numeric(as.POSIXct(sprintf("%04d-%02d-%02d", y, m, d), tz = "UTC"))
ts_times <- function(x, step = NA, start = NA) {
  f <- frequency(x); s <- tsp(x)[1]; n <- length(x); i <- seq_len(n) - 1
  if (!is.na(step)) return(start + i * step)
  if (f %in% c(1, 4, 12)) {
    months <- round((s - floor(s)) * 12) + i * (12 / f)
    y <- floor(s) + months %/% 12; m <- months %% 12 + 1
    return(mapply(epoch, y, m, 1))
  }
  stop("no calendar for frequency ", f)
}

# One value per line, each formatted alone with 15 significant digits (format() on a whole vector would
# pad every value to a common number of digits); a missing value (NA) is a gap.
emit1 <- function(name, family, times, values) {
  writeLines(sprintf("@ %s %s", name, family), out)
  keep <- !is.na(values)
  v <- vapply(values[keep], function(v) format(v, digits = 15, scientific = FALSE), "")
  writeLines(sprintf("%.0f,%s", times[keep], v), out)
}
series1 <- function(name, family, x, ...) emit1(name, family, ts_times(x, ...), as.numeric(x))

library(datasets)
# Machine and sensor telemetry: users connected through a server each minute; body temperature of two
# beavers every 10 minutes; hormone level every 10 minutes.
series1("WWWusage.minutely", "telemetry", WWWusage, step = 60, start = epoch(1990, 1, 1))
for (b in c("beaver1", "beaver2")) {
  d <- get(b)
  t <- epoch(1990, 1, 1) + (d$day - d$day[1]) * 86400 + (d$time %/% 100) * 3600 + (d$time %% 100) * 60
  emit1(paste0(b, ".temperature"), "telemetry", t, d$temp)
}
series1("lh.10min", "telemetry", lh, step = 600, start = epoch(1990, 1, 1))

# Counts.
for (s in c("AirPassengers", "ldeaths", "mdeaths", "fdeaths", "UKDriverDeaths", "USAccDeaths", "nottem")) {
  if (s == "nottem") next
  series1(paste0(s, ".monthly"), "count", get(s))
}
series1("lynx.yearly", "count", lynx)
series1("discoveries.yearly", "count", discoveries)
series1("sunspot.month", "count", sunspot.month)
sb <- Seatbelts
for (col in colnames(sb)) series1(paste0("Seatbelts.", col, ".monthly"), "count", sb[, col])

# Prices and money.
eu <- EuStockMarkets
for (col in colnames(eu)) series1(paste0("EuStockMarkets.", col, ".daily"), "price", eu[, col], step = 86400, start = epoch(1991, 5, 10))
series1("JohnsonJohnson.quarterly", "price", JohnsonJohnson)
series1("airmiles.yearly", "count", airmiles)

# Weather, climate and other measurements.
series1("nottem.monthly", "weather", nottem)
series1("co2.monthly", "weather", co2)
series1("nhtemp.yearly", "weather", nhtemp)
series1("LakeHuron.yearly", "weather", LakeHuron)
series1("Nile.yearly", "weather", Nile)
# Yearly from 6000 BC: a mean Gregorian year per step, counted back from 1970.
series1("treering.yearly", "weather", treering, step = 31556952, start = (-6000 - 1970) * 31556952)
series1("UKgas.quarterly", "count", UKgas)
series1("austres.quarterly", "count", austres)
aq <- airquality
t <- mapply(epoch, 1973, aq$Month, aq$Day)
for (col in c("Ozone", "Solar.R", "Wind", "Temp")) emit1(paste0("airquality.", col, ".daily"), "weather", t, aq[[col]])
close(out)
