'use strict';
// The live dashboard: polls the intake's admin routes, no libraries, no requests beyond the intake.
(() => {
  const keyName = 'seckill.adminKey';
  const pollMs = 500;
  const historyLength = 120; // one minute at the poll interval
  const $ = id => document.getElementById(id);

  let campaignId = null;
  let timer = null;
  let previous = null;
  let shardScale = {};
  const series = { accepted: [], orders: [], queue: [] };

  function adminKey() { return sessionStorage.getItem(keyName); }

  async function api(path) {
    const response = await fetch(path, { headers: { 'X-Admin-Key': adminKey() || '', Accept: 'application/json' }, cache: 'no-store' });
    if (response.status === 401) {
      // A wrong or rotated key: ask again rather than poll into a wall of 401s.
      sessionStorage.removeItem(keyName);
      askForKey('The admin key was refused.');
      throw new Error('unauthorized');
    }
    if (!response.ok) {
      let detail = '';
      try { detail = (await response.json()).detail || ''; } catch { /* not a problem document */ }
      throw new Error(`${path}: HTTP ${response.status} ${detail}`);
    }
    return response.json();
  }

  function askForKey(message) {
    stop();
    $('main').hidden = true;
    $('forget-key').hidden = true;
    $('key-form').hidden = false;
    $('key-error').hidden = !message;
    $('key-error').textContent = message || '';
    $('key-input').focus();
  }

  function showError(message) {
    $('error').hidden = !message;
    $('error').textContent = message || '';
  }

  async function loadCampaigns() {
    const campaigns = await api('/api/dashboard/campaigns');
    const picker = $('campaign-picker');
    const wanted = campaignId || new URLSearchParams(location.search).get('campaign');
    picker.replaceChildren(...campaigns.map(c => {
      const option = document.createElement('option');
      option.value = c.id;
      option.textContent = `${c.name} (${c.stock}, ${new Date(c.createdAt).toLocaleString()})`;
      return option;
    }));
    picker.disabled = campaigns.length === 0;
    if (campaigns.length === 0) {
      showError('No campaigns yet: create one with POST /api/campaigns.');
      return;
    }
    select(campaigns.some(c => c.id === wanted) ? wanted : campaigns[0].id);
  }

  function select(id) {
    $('campaign-picker').value = id;
    if (id === campaignId && timer !== null) return;
    campaignId = id;
    previous = null;
    shardScale = {};
    for (const name in series) series[name].length = 0;
    const url = new URL(location.href);
    url.searchParams.set('campaign', id);
    history.replaceState(null, '', url);
    stop();
    poll();
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  async function poll() {
    const polled = campaignId;
    timer = 0; // marks a poll in flight, so select() does not start a second loop
    try {
      const live = await api(`/api/campaigns/${encodeURIComponent(polled)}/live`);
      if (polled !== campaignId) return;
      render(live);
      showError(null);
    } catch (e) {
      if (e.message === 'unauthorized') return;
      showError(`Cannot read the campaign: ${e.message}`);
    }
    if (polled === campaignId && $('key-form').hidden) timer = setTimeout(poll, pollMs);
  }

  function render(live) {
    const c = live.campaign;
    $('main').hidden = false;
    $('campaign-name').textContent = c.name;
    $('campaign-status').textContent = c.status;
    $('campaign-stock').textContent = `stock ${c.stock} over ${c.shards.length} shard(s)`;
    renderShards(c);
    const counts = c.counts;
    for (const name of ['confirmed', 'pending', 'failed', 'awaitingPayment', 'paid', 'paymentExpired']) {
      const cell = $(`count-${name}`);
      cell.dataset.value = counts[name];
      cell.textContent = counts[name].toLocaleString();
    }

    // Cumulative totals; their differences between two samples are the rates (docs/api.md).
    const sample = {
      at: Date.parse(live.at),
      accepted: counts.confirmed + counts.pending + counts.failed + counts.paymentExpired,
      orders: counts.awaitingPayment + counts.paid + counts.paymentExpired,
    };
    if (previous !== null && sample.at > previous.at) {
      const seconds = (sample.at - previous.at) / 1000;
      // Never negative: archiving a campaign drops its pending count, which is not "un-accepting".
      push('accepted', Math.max(0, sample.accepted - previous.accepted) / seconds);
      push('orders', Math.max(0, sample.orders - previous.orders) / seconds);
    }
    previous = sample;
    const depth = live.queue ? live.queue.ready + live.queue.unacked : null;
    push('queue', depth);

    $('rate-accepted').textContent = format(last('accepted'));
    $('rate-orders').textContent = format(last('orders'));
    $('queue-depth').textContent = live.queue ? `${live.queue.ready} ready, ${live.queue.unacked} unacked` : 'unknown';
    $('updated').textContent = `updated ${new Date(live.at).toLocaleTimeString()}`;
    draw('chart-accepted', series.accepted, '#2f7de1');
    draw('chart-orders', series.orders, '#2a9d5c');
    draw('chart-queue', series.queue, '#d08a1c');
  }

  function renderShards(c) {
    const container = $('shards');
    // The largest stock a shard has shown is its full bar: shards get unequal shares of an odd stock.
    const even = c.shards.length ? Math.ceil(c.stock / c.shards.length) : 1;
    if (c.shards.length === 0) {
      container.textContent = c.status === 'archived' ? 'Archived: its keys are gone from Redis.' : 'No shards.';
      return;
    }
    if (container.children.length !== c.shards.length || !container.querySelector('.shard')) container.replaceChildren();
    for (const shard of c.shards) {
      shardScale[shard.index] = Math.max(shardScale[shard.index] || even, shard.virtualStock, 1);
      let row = container.querySelector(`.shard[data-shard="${shard.index}"]`);
      if (!row) {
        row = document.createElement('div');
        row.className = 'shard';
        row.dataset.shard = shard.index;
        row.innerHTML = '<span class="label"></span><div class="track"><div class="fill"></div></div><span class="value"></span>';
        row.querySelector('.label').textContent = `shard ${shard.index}`;
        container.appendChild(row);
      }
      row.dataset.stock = shard.virtualStock;
      row.classList.toggle('empty', shard.virtualStock <= 0);
      row.querySelector('.fill').style.width = `${Math.max(0, shard.virtualStock) / shardScale[shard.index] * 100}%`;
      row.querySelector('.value').textContent = shard.virtualStock.toLocaleString();
    }
  }

  function push(name, value) {
    const values = series[name];
    values.push(value);
    if (values.length > historyLength) values.shift();
  }

  function last(name) {
    const values = series[name];
    return values.length ? values[values.length - 1] : null;
  }

  function format(value) {
    return value === null || value === undefined ? '–' : value >= 100 ? Math.round(value).toLocaleString() : value.toFixed(1);
  }

  function draw(id, values, colour) {
    const canvas = $(id);
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== width * ratio || canvas.height !== height * ratio) {
      canvas.width = width * ratio;
      canvas.height = height * ratio;
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const known = values.filter(v => v !== null);
    const max = Math.max(1, ...known);
    // The highest value in view, for readers (and the browser test) that cannot see the line.
    canvas.dataset.peak = known.length ? Math.max(...known) : '';
    const top = 14, bottom = height - 4;
    g.fillStyle = '#6b7385';
    g.font = '11px system-ui, sans-serif';
    g.fillText(format(max), 4, 11);
    g.strokeStyle = '#dde1e8';
    g.beginPath(); g.moveTo(0, bottom + .5); g.lineTo(width, bottom + .5); g.stroke();
    if (known.length < 1) return;
    const step = width / (historyLength - 1);
    const offset = historyLength - values.length;
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    let drawing = false;
    values.forEach((v, i) => {
      if (v === null) { drawing = false; return; }
      const x = (offset + i) * step, y = bottom - (v / max) * (bottom - top);
      if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
      drawing = true;
    });
    g.stroke();
  }

  $('key-form').addEventListener('submit', async event => {
    event.preventDefault();
    sessionStorage.setItem(keyName, $('key-input').value.trim());
    $('key-input').value = '';
    await start();
  });
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(keyName);
    askForKey(null);
  });
  $('campaign-picker').addEventListener('change', event => select(event.target.value));

  async function start() {
    if (!adminKey()) {
      askForKey(null);
      return;
    }
    $('key-form').hidden = true;
    $('forget-key').hidden = false;
    try {
      await loadCampaigns();
    } catch (e) {
      if (e.message !== 'unauthorized') showError(`Cannot list campaigns: ${e.message}`);
    }
  }

  // New campaigns appear in the picker without a reload.
  setInterval(() => { if (adminKey() && $('key-form').hidden) loadCampaigns().catch(() => {}); }, 15000);
  start();
})();
