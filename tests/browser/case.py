"""A case's history (sagsforløb) in a real browser (headless Chromium over WebDriver): the case
page lists its treatments, and the first one opens its meeting as the agenda system shows it,
items and their sections as headings (to assistive technology too). axe-core on both pages, screenshots at 1280 and 390 px.
Prints one JSON object with what it saw."""

import argparse
import json
import os

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ask import browser, look


def headings(driver, css):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--case", required=True)
    p.add_argument("--screenshots", required=True)
    args = p.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    driver = browser()
    out = {}
    try:
        driver.get(f"{args.base}/sager/{args.case}")
        out["case"] = {
            "lang": driver.find_element(By.TAG_NAME, "html").get_attribute("lang"),
            "title": driver.find_element(By.CSS_SELECTOR, "article.case h1").text,
            "treatments": headings(driver, ".treatments > li h2"),
            "sections": headings(driver, ".treatments > li h3"),
        }
        look(driver, out, args.screenshots, "case")
        driver.find_element(By.CSS_SELECTOR, ".treatments > li h2 a").click()
        WebDriverWait(driver, 10).until(lambda d: "/sager/" not in d.current_url)
        out["meeting"] = {"url": driver.current_url, "headings": headings(driver, "main h1, main [role=heading]")}
        look(driver, out, args.screenshots, "meeting")
    finally:
        driver.quit()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
