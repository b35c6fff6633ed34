"""The built-in UI in a real browser: what each page shows against the API's own answers."""

import json
import os
import stat
import time
from datetime import datetime, timedelta, timezone

from conftest import PASSES, SPACING_S, artifact, split_csv

GPU = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"   # mtv5-dgx1-hgpu-031, GPU 0 (gets a live sample)
OTHER_GPU = "GPU-bc7a12ab-4998-fdc5-0785-2678a929a142"   # mtv5-dgx1-hgpu-031, GPU 1 (untouched)
METRICS = 10
GPUS = 247
HOSTS = 31


def open_page(browser, stack, fragment):
    browser.navigate(stack.base + "/#/" + fragment)
    browser.wait_for("document.readyState === 'complete' && document.getElementById('main')"
                     " && document.getElementById('main').dataset.ready === 'true'", what=f"page {fragment} ready")


def no_page_errors(browser):
    errors = [e for e in browser.errors]
    browser.errors.clear()
    assert not errors, errors


def test_stack_started_with_a_private_key(stack):
    path = os.path.join(stack.directory, "api-key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert f.read().strip() == stack.key
    assert stack.get("/api/v1/gpus?limit=1")["total"] == GPUS


def test_key_prompt_then_fleet_grid(browser, stack):
    # A fresh browser has no key: the page asks for it.
    open_page(browser, stack, "")
    browser.wait_for("document.getElementById('key-dialog').open", what="the API key dialog")
    browser.screenshot(artifact("01-key-dialog.png"), full_page=False)
    browser.evaluate(f"document.getElementById('key-input').value = {json.dumps(stack.key)};"
                     " document.getElementById('key-save').click(); true")
    browser.wait_for("document.querySelectorAll('#fleet-grid a.cell[data-value]').length === 247", what="247 coloured GPU cells")
    assert browser.evaluate("localStorage.getItem('telemetry.apiKey')") == stack.key
    assert not browser.evaluate("document.getElementById('key-dialog').open")
    assert browser.evaluate("document.getElementById('gpu-count').textContent") == str(GPUS)
    assert browser.evaluate("document.getElementById('host-count').textContent") == str(HOSTS)
    assert browser.evaluate("document.querySelectorAll('#fleet-grid .host-row').length") == HOSTS
    # Each band count adds up to the GPUs with data.
    bands = browser.evaluate("[...document.querySelectorAll('[id^=band-]')].map(e => Number(e.textContent))")
    assert sum(bands) == GPUS
    # The cell shows the newest value (the last pass carries the sample's own values).
    latest = stack.get("/api/v1/gpus/" + GPU + "/telemetry?metric=DCGM_FI_DEV_GPU_UTIL&limit=100")["data"][-1]["value"]
    cell = browser.evaluate(f"Number(document.querySelector('a.cell[data-uuid=\"{GPU}\"]').dataset.value)")
    assert cell == latest
    browser.screenshot(artifact("02-fleet-utilisation.png"))
    no_page_errors(browser)


def test_fleet_switches_to_temperature_and_power(browser, stack):
    open_page(browser, stack, "?metric=temp")
    browser.wait_for("document.querySelectorAll('#fleet-grid a.cell[data-value]').length === 247", what="temperature cells")
    temps = stack.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_TEMP&agg=last&group_by=UUID")["series"]
    want = {s["labels"]["UUID"]: s["values"][-1] for s in temps}
    shown = browser.evaluate("Object.fromEntries([...document.querySelectorAll('a.cell[data-uuid]')]"
                             ".map(c => [c.dataset.uuid, Number(c.dataset.value)]))")
    assert shown == want
    browser.screenshot(artifact("03-fleet-temperature.png"))
    browser.evaluate("document.querySelector('button[data-metric=power]').click(); true")
    browser.wait_for("location.hash.includes('metric=power') && document.getElementById('avg-value').textContent.endsWith('W')",
                     what="power view")
    browser.wait_for(f"Number(document.querySelector('a.cell[data-uuid=\"{GPU}\"]').dataset.value) === "
                     f"{stack.get('/api/v1/gpus/' + GPU + '/telemetry?metric=DCGM_FI_DEV_POWER_USAGE&limit=100')['data'][-1]['value']}",
                     what="the GPU's power value")
    # The host filter narrows the grid.
    browser.evaluate("const s = document.querySelector('input[type=search]'); s.value = 'hgpu-031';"
                     " s.dispatchEvent(new Event('input')); true")
    browser.wait_for("document.querySelectorAll('#fleet-grid .host-row').length === 1", what="one host after filtering")
    browser.screenshot(artifact("04-fleet-power-filtered.png"))
    no_page_errors(browser)


def test_gpu_page_charts_every_metric_and_follows_the_stream(browser, stack):
    open_page(browser, stack, f"gpu/{GPU}?range=all")
    browser.wait_for(f"document.querySelectorAll('#gpu-charts svg.chart').length === {METRICS}", what="10 charts")
    points = browser.evaluate("Object.fromEntries([...document.querySelectorAll('.chart-card')]"
                              ".map(c => [c.dataset.metric, Number(c.querySelector('svg.chart').dataset.points)]))")
    assert len(points) == METRICS
    assert set(points.values()) == {PASSES}, points
    # The API agrees: PASSES raw samples per metric.
    raw = stack.get(f"/api/v1/gpus/{GPU}/telemetry?metric=DCGM_FI_DEV_GPU_TEMP&limit=1000")
    assert raw["count"] == PASSES
    assert browser.evaluate("document.querySelector('.chart-card[data-metric=DCGM_FI_DEV_GPU_TEMP] path.line').dataset.points") == str(PASSES)
    browser.screenshot(artifact("05-gpu-all-metrics.png"))

    # Live: a new scrape of this GPU written to the API appears through the SSE stream.
    browser.wait_for("document.getElementById('live-state').textContent.includes('live')", what="the live stream")
    with open(stack.history) as f:
        header, *rows = f.read().splitlines()
    newest = [split_csv(r) for r in rows[-stack.rows_per_pass:]]
    mine = [r for r in newest if r[4] == GPU]
    assert len(mine) == METRICS
    body = [header]
    for r in mine:
        t = datetime.strptime(r[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(seconds=SPACING_S)
        r[0] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if r[1] == "DCGM_FI_DEV_GPU_UTIL":
            r[10] = "42"
        body.append(",".join('"' + v.replace('"', '""') + '"' for v in r))
    assert stack.post_csv("\n".join(body) + "\n") == 204
    browser.wait_for(f"Number(document.getElementById('live-state').dataset.events || 0) >= {METRICS}", what="live samples")
    browser.wait_for("document.querySelector('.chart-card[data-metric=DCGM_FI_DEV_GPU_UTIL] svg.chart').dataset.points"
                     f" === '{PASSES + 1}'", what="the new point in the utilisation chart")
    assert browser.evaluate("document.querySelector('.chart-card[data-metric=DCGM_FI_DEV_GPU_UTIL] .now').textContent") == "42 %"
    browser.screenshot(artifact("06-gpu-live.png"))

    # Another range re-queries with a coarser step.
    open_page(browser, stack, f"gpu/{GPU}?range=5m")
    browser.wait_for(f"document.querySelectorAll('#gpu-charts svg.chart').length === {METRICS}", what="charts for 5m")
    no_page_errors(browser)


def test_query_page_chart_table_and_explain(browser, stack):
    # One GPU's raw samples: one series, PASSES points.
    match = f'UUID="{OTHER_GPU}"'
    from urllib.parse import quote
    open_page(browser, stack, "query?metric=DCGM_FI_DEV_GPU_TEMP&match=" + quote(match))
    browser.wait_for("!!document.querySelector('#q-chart svg.chart')", what="the query chart")
    assert browser.evaluate("document.querySelector('#q-chart svg.chart').dataset.points") == str(PASSES)
    assert browser.evaluate("document.querySelectorAll('#q-table tbody tr').length") == 1
    assert browser.evaluate("document.querySelector('#q-table tbody tr td.num').textContent") == str(PASSES)
    assert "series matched" in browser.evaluate("document.getElementById('q-explain').textContent")
    no_page_errors(browser)

    # Average utilisation per host in 1-minute steps: 31 series, 12 drawn, all in the table.
    open_page(browser, stack, "query?metric=DCGM_FI_DEV_GPU_UTIL&step=1m&agg=avg&group_by=Hostname")
    browser.wait_for("!!document.querySelector('#q-chart svg.chart')", what="the grouped chart")
    assert browser.evaluate("document.querySelectorAll('#q-table tbody tr').length") == HOSTS
    assert browser.evaluate("document.querySelector('#q-chart svg.chart').dataset.series") == "12"
    api = stack.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&step=1m&agg=avg&group_by=Hostname")
    drawn = browser.evaluate("Number(document.querySelector('#q-chart svg.chart').dataset.points)")
    assert drawn == sum(len(s["values"]) for s in api["series"][:12])
    matched = browser.evaluate("[...document.querySelectorAll('#q-explain dt')]"
                               ".find(d => d.textContent === 'series matched').nextElementSibling.textContent")
    assert matched == str(GPUS)
    browser.screenshot(artifact("07-query-grouped.png"))

    # "()" groups everything into one series, as PromQL's `avg by ()`.
    open_page(browser, stack, "query?metric=DCGM_FI_DEV_GPU_UTIL&step=1m&agg=avg&group_by=()")
    browser.wait_for("!!document.querySelector('#q-chart svg.chart')", what="the fleet-wide chart")
    assert browser.evaluate("document.querySelectorAll('#q-table tbody tr').length") == 1
    fleet = stack.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&step=1m&agg=avg&group_by=")
    assert browser.evaluate("document.querySelector('#q-chart svg.chart').dataset.points") == str(len(fleet["series"][0]["values"]))

    # The form: pick metric, aggregation and grouping, run — one value per host.
    browser.evaluate("""(() => {
        const set = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); };
        set('q-metric', 'DCGM_FI_DEV_POWER_USAGE'); set('q-match', ''); set('q-step', ''); set('q-agg', 'max'); set('q-group_by', 'Hostname');
        document.getElementById('q-run').click(); return true; })()""")
    browser.wait_for("location.hash.includes('agg=max') && document.getElementById('main').dataset.ready === 'true'"
                     " && document.querySelectorAll('#q-table tbody tr').length === 31 && !document.querySelector('#q-chart')",
                     what="one row per host, no line chart")
    assert "DCGM_FI_DEV_POWER_USAGE" in browser.evaluate("document.getElementById('q-request').textContent")
    browser.screenshot(artifact("08-query-form-max-power.png"))

    # A bad matcher shows the API's message.
    open_page(browser, stack, "query?metric=DCGM_FI_DEV_GPU_UTIL&match=" + quote("gpu=~\"(\""))
    browser.wait_for("!!document.querySelector('#q-output .error')", what="an error message")
    assert "400" in browser.evaluate("document.querySelector('#q-output .error').textContent")
    no_page_errors(browser)


def test_ui_is_self_contained(stack):
    """No CDN, no external fonts: every asset the pages reference is served by the API."""
    import re
    import urllib.request
    html = urllib.request.urlopen(stack.base + "/", timeout=10).read().decode()
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs
    for ref in refs:
        assert not ref.startswith("http") and not ref.startswith("//"), ref
        assert urllib.request.urlopen(stack.base + ref, timeout=10).status == 200, ref
    for name in ["app.js", "chart.js", "fleet.js", "gpu.js", "query.js", "style.css"]:
        text = urllib.request.urlopen(stack.base + "/ui/" + name, timeout=10).read().decode()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, name


def test_mig_gpu_lists_its_instances_and_stays_one_gpu(browser, stack):
    """A MIG-enabled GPU (dcgm-exporter's GPU_I_ID / GPU_I_PROFILE labels) is one cell on the
    fleet grid, marked with its slice count, and its page lists the slices. Runs last: it adds a GPU."""
    mig = "GPU-b8ea3855-276c-c9cb-b366-c6fa655957c5"
    with open(stack.history) as f:
        header, *rows = f.read().splitlines()
    t = split_csv(rows[-1])[0]
    body = [header]
    for gi, profile, value in [("2", "3g.40gb", 41), ("9", "1g.10gb", 7)]:
        raw = f'GPU_I_ID="{gi}",GPU_I_PROFILE="{profile}",pci_bus_id="00000000:07:00.0"'
        fields = [t, "DCGM_FI_DEV_GPU_UTIL", "0", "nvidia0", mig, "NVIDIA A100-SXM4-80GB", "dgx-mig-1", "", "", "", str(value), raw]
        body.append(",".join('"' + v.replace('"', '""') + '"' for v in fields))
    assert stack.post_csv("\n".join(body) + "\n") == 204
    gpus = stack.get("/api/v1/gpus?hostname=dgx-mig-1")
    assert gpus["total"] == 1
    assert gpus["gpus"][0]["mig_instances"] == [{"gpu_instance_id": "2", "profile": "3g.40gb"},
                                               {"gpu_instance_id": "9", "profile": "1g.10gb"}]

    open_page(browser, stack, "")
    browser.wait_for(f"!!document.querySelector('a.cell[data-uuid=\"{mig}\"]')", what="the MIG GPU's cell")
    assert browser.evaluate(f"document.querySelectorAll('a.cell[data-uuid=\"{mig}\"]').length") == 1
    assert browser.evaluate(f"document.querySelector('a.cell[data-uuid=\"{mig}\"]').dataset.mig") == "2"
    assert browser.evaluate("document.getElementById('gpu-count').textContent") == str(GPUS + 1)

    open_page(browser, stack, f"gpu/{mig}?range=all")
    browser.wait_for("document.querySelectorAll('#mig-instances li').length === 2", what="the MIG instance list")
    items = browser.evaluate("[...document.querySelectorAll('#mig-instances li')].map(li => li.textContent)")
    assert items == ["GI 2 · 3g.40gb", "GI 9 · 1g.10gb"], items
    browser.screenshot(artifact("08-gpu-mig.png"))
    no_page_errors(browser)
