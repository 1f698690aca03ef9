// Draws the dashboard's charts from the JSON the server embedded in the page. Nothing is fetched:
// the figures on the page and in the charts are the same data.
(function () {
  'use strict';
  var el = document.getElementById('dashboard-data');
  if (!el || typeof Chart === 'undefined') return;
  var data = JSON.parse(el.textContent);
  var palette = ['#1f4e79', '#2e86ab', '#5fad56', '#f2c14e', '#f78154', '#b4436c', '#6c4f8f',
                 '#4d9078', '#c17c74', '#7d8491'];
  var status = { approved: '#1e7b45', rejected: '#b3261e', pending: '#a86400' };
  var base = { responsive: true, maintainAspectRatio: false, animation: false };

  var regions = data.by_region.regions;
  new Chart(document.getElementById('chart-region'), {
    type: 'pie',
    data: { labels: regions.map(function (r) { return r.region; }),
            datasets: [{ data: regions.map(function (r) { return r.total; }),
                         backgroundColor: palette }] },
    options: base
  });

  var countries = data.by_country.countries.slice(0, 15);
  new Chart(document.getElementById('chart-country'), {
    type: 'bar',
    data: { labels: countries.map(function (c) { return c.country; }),
            datasets: [
              { label: 'Approved', data: countries.map(function (c) { return c.approved; }), backgroundColor: status.approved },
              { label: 'Rejected', data: countries.map(function (c) { return c.rejected; }), backgroundColor: status.rejected },
              { label: 'Pending', data: countries.map(function (c) { return c.pending; }), backgroundColor: status.pending }
            ] },
    options: Object.assign({}, base, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } })
  });

  var funnel = data.funnel.funnel;
  new Chart(document.getElementById('chart-funnel'), {
    type: 'bar',
    data: { labels: funnel.map(function (f) { return f.stage; }),
            datasets: [{ label: 'Applications', data: funnel.map(function (f) { return f.count; }),
                         backgroundColor: palette.slice(0, funnel.length) }] },
    options: Object.assign({}, base, { indexAxis: 'y', plugins: { legend: { display: false } },
                                       scales: { x: { beginAtZero: true } } })
  });

  var timeline = data.timeline.timeline;
  new Chart(document.getElementById('chart-timeline'), {
    type: 'line',
    data: { labels: timeline.map(function (d) { return d.date; }),
            datasets: [
              { label: 'Total', data: timeline.map(function (d) { return d.total; }), borderColor: palette[0], backgroundColor: palette[0], tension: 0.2 },
              { label: 'Approved', data: timeline.map(function (d) { return d.approved; }), borderColor: status.approved, backgroundColor: status.approved, tension: 0.2 },
              { label: 'Rejected', data: timeline.map(function (d) { return d.rejected; }), borderColor: status.rejected, backgroundColor: status.rejected, tension: 0.2 }
            ] },
    options: Object.assign({}, base, { scales: { y: { beginAtZero: true } } })
  });
})();
