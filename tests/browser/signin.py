"""Signing in on the members' page in a real browser (headless Chromium over WebDriver): an
anonymous visitor is told the archive does not answer and cannot find a restricted document;
signed in with a token, the member finds it and is answered from it; signed out, it is gone
again; the single sign-on (the identity provider the test runs) ends in a signed-in page. axe-core
on the sign-in page, screenshots at 1280 and 390 px. Prints one JSON object with what it saw."""

import argparse
import json
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ask import axe, browser, look, shots


def account(driver):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "header .account"))


def search(driver, base, query):
    driver.get(base + "/sog?q=" + query)
    return [li.find_element(By.TAG_NAME, "a").text for li in driver.find_elements(By.CSS_SELECTOR, ".hits li")]


def ask(driver, base, question):
    driver.get(base + "/")
    driver.find_element(By.ID, "question").send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#ask-form button[type=submit]").click()
    WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".turn .answer") and not d.find_element(By.CSS_SELECTOR, "#ask-form button[type=submit]").get_attribute("disabled"))
    time.sleep(0.2)
    turn = driver.find_elements(By.CSS_SELECTOR, ".turn")[-1]
    answer = turn.find_element(By.CSS_SELECTOR, ".answer")
    return {
        "answer": answer.text,
        "abstained": "abstained" in (answer.get_attribute("class") or ""),
        "sources": [a.text for a in turn.find_elements(By.CSS_SELECTOR, ".sources li > a")],
        "nearest": [a.text for a in turn.find_elements(By.CSS_SELECTOR, ".nearest li > a")],
        "errors": [e.text for e in turn.find_elements(By.CSS_SELECTOR, ".error")],
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--token", required=True)
    p.add_argument("--query", required=True)
    p.add_argument("--question", required=True)
    p.add_argument("--screenshots", required=True)
    args = p.parse_args()
    out = {}
    driver = browser()
    # A page left while it is read (a sign-out's redirect) is read again.
    wait = WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,))
    try:
        out["anonymous"] = {"hits": search(driver, args.base, args.query), "asked": ask(driver, args.base, args.question), "account": account(driver)}
        out["overflow_abstained"] = shots(driver, args.screenshots, "abstained")
        # Signing in with a token, from the search page's own link back to it.
        driver.get(args.base + "/logind?next=%2Fsog%3Fq%3D" + args.query)
        look(driver, out, args.screenshots, "signin")
        driver.find_element(By.ID, "token").send_keys(args.token)
        driver.find_element(By.CSS_SELECTOR, "form[action='/logind'] button[type=submit]").click()
        try:
            wait.until(lambda d: "/sog" in d.current_url)
        except Exception as e:
            raise RuntimeError(f"not back on the search page: {driver.current_url}: {driver.find_element(By.TAG_NAME, 'body').text[:500]}") from e
        out["token"] = {
            "landed": driver.current_url,
            "account": account(driver),
            "hits": [li.find_element(By.TAG_NAME, "a").text for li in driver.find_elements(By.CSS_SELECTOR, ".hits li")],
            "cookie": [{"name": c["name"], "httpOnly": c.get("httpOnly"), "sameSite": c.get("sameSite")} for c in driver.get_cookies()],
            "asked": ask(driver, args.base, args.question),
        }
        out["axe_signed_in"] = axe(driver)
        # Signing out.
        driver.find_element(By.CSS_SELECTOR, "header form.account button[type=submit]").click()
        wait.until(lambda d: "Log ind" in account(d))
        out["signed_out"] = {"account": account(driver), "hits": search(driver, args.base, args.query)}
        # The single sign-on: the provider's page, its button, back signed in.
        driver.get(args.base + "/logind")
        driver.find_element(By.LINK_TEXT, "Log ind med Aarhus Kommunes login").click()
        wait.until(lambda d: d.find_elements(By.ID, "approve"))
        out["provider_page"] = driver.title
        driver.find_element(By.ID, "approve").click()
        wait.until(lambda d: "Logget ind som" in account(d))
        out["sso"] = {"landed": driver.current_url, "account": account(driver), "hits": search(driver, args.base, args.query)}
        out["overflow_sso"] = shots(driver, args.screenshots, "signed-in")
    finally:
        driver.quit()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
