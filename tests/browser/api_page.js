#!/usr/bin/env node
// The API page (/api/docs) in a real browser: Debian's chromium, headless, driven by the
// pinned puppeteer-core. It checks that every operation of docs/openapi.yaml is listed and
// that "Try it out" on GET /api/movies/{id} reaches the gateway (200 with a movie this test
// created, 404 problem+json for an id that no longer exists), with no console error and no
// failed request on the way. Prints "N passed, N failed" last, like the other runners.
// Needs the stack of tests/lib/test.sh: BASE_URL names the gateway.
// API_PAGE_SCREENSHOT: where the screenshot goes (default: STACK_DIR or the temp folder);
// docs/api-page.png is made with API_PAGE_SCREENSHOT=docs/api-page.png.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createRequire } = require('node:module');

const root = path.resolve(__dirname, '../..');
const requireTool = createRequire(path.join(root, 'scripts/package.json'));
const puppeteer = requireTool('puppeteer-core');
const yaml = requireTool('js-yaml');

const BASE_URL = process.env.BASE_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.API_PAGE_SCREENSHOT ||
	path.join(process.env.STACK_DIR || os.tmpdir(), 'api-page.png');
const WAIT_MS = 20000;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let passed = 0;
let failed = 0;

async function check(name, fn) {
	try {
		await fn();
		passed++;
		console.log(`ok - ${name}`);
	} catch (err) {
		failed++;
		console.log(`not ok - ${name}\n#   ${String(err && err.stack || err).replace(/\n/g, '\n#   ')}`);
	}
}

function assert(cond, message) {
	if (!cond) throw new Error(message);
}

// "GET /api/movies/{id}" for every operation of the spec, sorted.
function specOperations() {
	const spec = yaml.load(fs.readFileSync(path.join(root, 'docs/openapi.yaml'), 'utf8'));
	const ops = [];
	for (const [p, item] of Object.entries(spec.paths)) {
		for (const m of HTTP_METHODS) {
			if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
		}
	}
	return ops.sort();
}

async function api(method, urlPath, body) {
	const res = await fetch(BASE_URL + urlPath, {
		method,
		headers: body ? { 'Content-Type': 'application/json' } : {},
		body: body ? JSON.stringify(body) : undefined,
	});
	return { status: res.status, json: await res.json() };
}

// A movie that exists, and the id of one that existed and was deleted.
async function makeMovies() {
	const made = await api('POST', '/api/movies', {
		title: 'Alien', description: 'In space no one can hear you scream.',
	});
	assert(made.status === 201, `creating a movie: ${made.status}`);
	const gone = await api('POST', '/api/movies', { title: 'Deleted by the browser test' });
	assert(gone.status === 201, `creating a movie: ${gone.status}`);
	const del = await api('DELETE', `/api/movies/${gone.json.id}`);
	assert(del.status === 200, `deleting a movie: ${del.status}`);
	return { movie: made.json, absentId: gone.json.id };
}

async function launch(userDataDir) {
	return puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		userDataDir,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		defaultViewport: { width: 1280, height: 900 },
	});
}

// Records console errors, page errors and failed or 4xx/5xx requests, except the one
// response the test asks for on purpose (isExpected(url, status)).
function watchProblems(page, isExpected) {
	const problems = [];
	page.on('console', (msg) => {
		const where = msg.location() && msg.location().url || '';
		if (msg.type() === 'error' && !isExpected(where, 404)) problems.push(`console: ${msg.text()} (${where})`);
	});
	page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
	page.on('requestfailed', (req) => {
		const why = req.failure() ? req.failure().errorText : 'blocked';
		problems.push(`failed: ${req.url()} ${why}`);
	});
	page.on('response', (res) => {
		if (res.status() >= 400 && !isExpected(res.url(), res.status())) {
			problems.push(`HTTP ${res.status()}: ${res.url()}`);
		}
	});
	return problems;
}

// The operations Swagger UI lists, as "METHOD /path", sorted.
async function listedOperations(page) {
	const ops = await page.$$eval('.opblock', (blocks) => blocks.map((b) => {
		const method = b.querySelector('.opblock-summary-method').textContent.trim();
		const p = b.querySelector('.opblock-summary-path').getAttribute('data-path');
		return `${method} ${p}`;
	}));
	return ops.sort();
}

// Fills the id of the expanded GET /api/movies/{id}, presses Execute and returns the live
// response once it is shown: its status, body and headers as the page shows them.
async function execute(page, block, id, previous) {
	const input = await page.waitForSelector(`${block} tr[data-param-name="id"] input`);
	await input.click({ clickCount: 3 });
	await input.press('Backspace');
	await input.type(String(id));
	await page.click(`${block} button.execute`);
	const live = `${block} .live-responses-table .response`;
	await page.waitForFunction((sel, before) => {
		const el = document.querySelector(sel);
		return el && el.querySelector('.response-col_description pre') && el.textContent !== before;
	}, { timeout: WAIT_MS }, live, previous ? previous.text : '');
	return page.$eval(live, (el) => {
		const shown = [...el.querySelectorAll('.response-col_description pre')].map((pre) => pre.textContent);
		return {
			text: el.textContent,
			status: el.querySelector('.response-col_status').textContent.trim(),
			body: shown[0],
			headers: shown.slice(1).join('\n'),
		};
	});
}

// Saves the page from its top down to the bottom of the element `until`.
async function screenshot(page, until) {
	const box = await page.$eval(until, (el) => {
		const r = el.getBoundingClientRect();
		return { bottom: r.bottom + window.scrollY, width: document.documentElement.clientWidth };
	});
	await page.screenshot({
		path: SCREENSHOT,
		clip: { x: 0, y: 0, width: box.width, height: Math.ceil(box.bottom) + 16 },
		captureBeyondViewport: true,
	});
}

// The JSON a live response shows, or an error naming what was shown instead.
function shownJson(res) {
	try {
		return JSON.parse(res.body);
	} catch (err) {
		throw new Error(`the page shows no JSON body: ${res.text.slice(0, 500)}`);
	}
}

async function main() {
	assert(BASE_URL, 'BASE_URL is not set (run through tests/lib/test.sh)');
	const { movie, absentId } = await makeMovies();
	const absentUrl = `${BASE_URL}/api/movies/${absentId}`;
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-page-chromium-'));
	const browser = await launch(userDataDir);
	try {
		const page = await browser.newPage();
		const problems = watchProblems(page, (url, status) => url === absentUrl && status === 404);
		const block = '#operations-inventory-getMovie';
		let shown = null;

		await check('GET /api/docs/ renders the spec in Swagger UI', async () => {
			const res = await page.goto(`${BASE_URL}/api/docs/`, { waitUntil: 'networkidle0' });
			assert(res.status() === 200, `status ${res.status()}`);
			await page.waitForSelector('.opblock', { timeout: WAIT_MS });
			const title = await page.$eval('.info .title', (el) => el.textContent);
			assert(title.includes('Movie-streaming platform API'), `title "${title}"`);
		});

		await check('every operation of docs/openapi.yaml is listed', async () => {
			const want = specOperations();
			const got = await listedOperations(page);
			assert(JSON.stringify(got) === JSON.stringify(want),
				`listed:\n${got.join('\n')}\nin the spec:\n${want.join('\n')}`);
		});

		await check('Try it out: GET /api/movies/{id} shows 200 and the movie', async () => {
			await page.click(`${block} .opblock-summary-control`);
			await (await page.waitForSelector(`${block} .try-out__btn`)).click();
			shown = await execute(page, block, movie.id, null);
			assert(shown.status === '200', `status ${shown.status}`);
			const got = shownJson(shown);
			assert(JSON.stringify(got) === JSON.stringify(movie),
				`shown ${JSON.stringify(got)}, created ${JSON.stringify(movie)}`);
			assert(shown.text.includes(movie.title), `the title is not on the page`);
			await screenshot(page, `${block} .live-responses-table .response-col_description .highlight-code`);
		});

		await check('Try it out: an absent id shows 404 problem+json', async () => {
			const res = await execute(page, block, absentId, shown);
			assert(res.status === '404', `status ${res.status}`);
			assert(/content-type: application\/problem\+json/i.test(res.headers),
				`headers shown: ${res.headers}`);
			const problem = shownJson(res);
			assert(problem.status === 404 && problem.title === 'Not Found' &&
				problem.detail === `no movie with id ${absentId}`, `shown ${res.body}`);
		});

		await check('no console error and no failed request', async () => {
			assert(problems.length === 0, problems.join('\n'));
		});

		await check(`the screenshot is a PNG (${SCREENSHOT})`, async () => {
			const png = fs.readFileSync(SCREENSHOT);
			assert(png.subarray(1, 4).toString() === 'PNG' && png.length > 10000, 'not a PNG of a page');
		});
	} finally {
		await browser.close();
		fs.rmSync(userDataDir, { recursive: true, force: true });
		await api('DELETE', `/api/movies/${movie.id}`);
	}
}

main()
	.catch((err) => {
		failed++;
		console.log(`not ok - the browser test could not run\n#   ${err && err.stack || err}`);
	})
	.finally(() => {
		console.log(`${passed} passed, ${failed} failed`);
		process.exitCode = failed === 0 ? 0 : 1;
	});
