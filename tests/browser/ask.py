"""The ask page in a real browser (headless Chromium over WebDriver): ask, see the streamed
answer and its sources, follow a citation to the highlighted passage; axe-core on each page;
screenshots at 1280 and 390 px. Prints one JSON object with what it saw."""

import argparse
import json
import os
import time
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=da"]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def axe(driver):
    a = Axe(driver)
    a.inject()
    results = a.run()
    return [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in results["violations"]]


def shots(driver, folder, name):
    """Screenshots at 1280 and 390 px; returns how far the page overflows sideways at each."""
    overflow = {}
    for width in (1280, 390):
        driver.set_window_size(width, 900)
        time.sleep(0.2)
        driver.execute_script("const p = document.getElementById('passage'); if (p) p.scrollIntoView({block: 'center'});")
        overflow[str(width)] = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        driver.save_screenshot(os.path.join(folder, f"{name}-{width}.png"))
    driver.set_window_size(1280, 900)
    return overflow


def look(driver, out, folder, name):
    """The page as it is now: axe-core's findings and the screenshots, into `out` under `name`."""
    out[f"axe_{name}"] = axe(driver)
    out[f"overflow_{name}"] = shots(driver, folder, name)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--question", action="append", required=True)
    p.add_argument("--screenshots", required=True)
    p.add_argument("--fresh", action="store_true", help="ask each question in a new conversation (the page reloaded)")
    args = p.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    out = {"questions": []}
    driver = browser()
    try:
        driver.get(args.base + "/")
        out["title"] = driver.title
        out["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        out["axe_ask"] = axe(driver)
        wait = WebDriverWait(driver, 60)
        for i, q in enumerate(args.question):
            if args.fresh and i > 0:
                driver.get(args.base + "/")
            box = driver.find_element(By.ID, "question")
            box.send_keys(q)
            turns = len(driver.find_elements(By.CSS_SELECTOR, ".turn"))
            started = time.monotonic()
            driver.find_element(By.CSS_SELECTOR, "#ask-form button[type=submit]").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn")) > turns)
            turn = driver.find_elements(By.CSS_SELECTOR, ".turn")[-1]
            answer = turn.find_element(By.CSS_SELECTOR, ".answer")
            while time.monotonic() - started < 60:
                if not driver.find_element(By.CSS_SELECTOR, "#ask-form button[type=submit]").get_attribute("disabled"):
                    break
                time.sleep(0.02)
            # Measured by the page itself: from the click to the first piece of the answer.
            first = turn.get_attribute("data-first-token-ms")
            sources = turn.find_elements(By.CSS_SELECTOR, ".sources li")
            out["questions"].append({
                "question": q,
                "first_token_ms": int(first) if first else None,
                "turns": len(driver.find_elements(By.CSS_SELECTOR, ".turn")),
                "answer": answer.text,
                "abstained": "abstained" in (answer.get_attribute("class") or ""),
                "links": [a.get_attribute("href") for a in answer.find_elements(By.TAG_NAME, "a")],
                "sources": [{"title": s.find_element(By.TAG_NAME, "a").text, "quote": s.find_element(By.TAG_NAME, "blockquote").text} for s in sources],
            })
        # Judge the first answer down with a reason: the feedback form.
        first_turn = driver.find_elements(By.CSS_SELECTOR, ".turn")[0]
        first_turn.find_element(By.CSS_SELECTOR, ".feedback button[aria-label='Nej, ikke nyttigt']").click()
        Select(first_turn.find_element(By.CSS_SELECTOR, ".feedback select")).select_by_value("incomplete")
        first_turn.find_element(By.CSS_SELECTOR, ".feedback input[name=comment]").send_keys("mangler stk. 4")
        first_turn.find_element(By.CSS_SELECTOR, ".feedback button[type=submit]").click()
        wait.until(lambda d: "Tak" in first_turn.find_element(By.CSS_SELECTOR, ".feedback .status").text)
        out["feedback"] = first_turn.find_element(By.CSS_SELECTOR, ".feedback .status").text
        out["axe_feedback"] = axe(driver)
        if args.fresh:
            driver.get(args.base + "/")
            driver.find_element(By.ID, "question").send_keys(args.question[0])
            driver.find_element(By.CSS_SELECTOR, "#ask-form button[type=submit]").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sources li"))
        out["overflow_ask"] = shots(driver, args.screenshots, "ask")
        links = [q["links"] for q in out["questions"] if q["links"]]
        if links:
            driver.get(links[0][0])
            mark = wait.until(ec.presence_of_element_located((By.ID, "passage")))
            out["passage"] = {"url": driver.current_url, "text": mark.text, "in_view": driver.execute_script(
                "const r = document.getElementById('passage').getBoundingClientRect(); return r.top < window.innerHeight && r.bottom > 0;")}
            look(driver, out, args.screenshots, "document")
        # The search page with a filter.
        driver.get(args.base + "/sog")
        driver.find_element(By.ID, "q").send_keys("habilitet")
        Select(driver.find_element(By.ID, "kind")).select_by_value("lov")
        driver.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".hits li") or "0 resultater" in d.page_source)
        out["search"] = {
            "heading": driver.find_element(By.ID, "resultater").text,
            "hits": [li.find_element(By.CSS_SELECTOR, ".meta").text for li in driver.find_elements(By.CSS_SELECTOR, ".hits li")],
            "marks": len(driver.find_elements(By.CSS_SELECTOR, ".hits mark")),
            "more": len(driver.find_elements(By.LINK_TEXT, "Vis flere resultater")),
        }
        look(driver, out, args.screenshots, "search")
        # The forespørgsel page: a draft with its Word download.
        driver.get(args.base + "/forespoergsel")
        driver.find_element(By.ID, "member").send_keys("Anna Hansen")
        driver.find_element(By.ID, "party").send_keys("SF")
        driver.find_element(By.ID, "text").send_keys("Hvad koster letbanens anden etape, og hvornår besluttes den?")
        driver.find_element(By.CSS_SELECTOR, "#draft-form button[type=submit]").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#draft h2") or d.find_elements(By.CSS_SELECTOR, "#draft .error"))
        terms = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#draft dt")]
        values = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#draft dd")]
        link = driver.find_element(By.LINK_TEXT, "Hent som Word-dokument").get_attribute("href")
        with urllib.request.urlopen(link) as r:
            docx = r.read()
        out["draft"] = {"meta": dict(zip(terms, values)), "questions": [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#draft .questions li")], "docx_bytes": len(docx), "docx_is_zip": docx[:2] == b"PK"}
        look(driver, out, args.screenshots, "draft")
        # The rules page: a reference and a question in a member's own words.
        out["rules"] = []
        for q in ["§ 11, stk. 2", "må jeg stemme om min kones forening?"]:
            driver.get(args.base + "/regler")
            box = driver.find_element(By.ID, "q")
            box.send_keys(q)
            driver.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".provision h2 a") or "Ingen bestemmelse" in d.page_source)
            out["rules"].append({"query": q, "citations": [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".provision h2 a")]})
        look(driver, out, args.screenshots, "rules")
    finally:
        driver.quit()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
