#!/usr/bin/env python3
"""A real browser through nginx forward-auth and Portero's sign-in page (headless Debian chromium + selenium).

    python3 harness/browser/signin_flow.py BASE_URL EMAIL PASSWORD

BASE_URL is the nginx site of examples/nginx/protected-app.conf. The browser opens the protected app, lands on
the sign-in page, signs in, arrives back at the app, signs out and is asked to sign in again. Prints one JSON
object of what it saw; exits 0 when every step held, 1 otherwise.
"""
import json
import sys
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def main(base, email, password):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 15)
    seen = {}
    try:
        driver.get(base + "/")
        wait.until(expected_conditions.presence_of_element_located((By.ID, "email")))
        landed = urllib.parse.urlsplit(driver.current_url)
        seen["sign_in_page"] = landed.path
        seen["rd"] = urllib.parse.parse_qs(landed.query).get("rd", [None])[0]
        seen["label_for_email"] = driver.find_element(By.CSS_SELECTOR, "label[for=email]").text

        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys("not the password")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "error")))
        seen["wrong_password"] = driver.find_element(By.ID, "error").text

        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: urllib.parse.urlsplit(d.current_url).path == "/")
        seen["app_url"] = driver.current_url
        seen["app_text"] = driver.find_element(By.TAG_NAME, "body").text
        cookie = driver.get_cookie("portero_session") or {}
        seen["cookie"] = {key: cookie.get(key) for key in ("httpOnly", "sameSite", "path", "secure")}

        driver.get(base + "/signin")
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "form[action='/signout']")))
        seen["signed_in_page"] = driver.find_element(By.TAG_NAME, "h1").text
        driver.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "email")))
        seen["after_sign_out"] = urllib.parse.urlsplit(driver.current_url).path
        seen["cookie_after_sign_out"] = driver.get_cookie("portero_session")

        driver.get(base + "/")
        wait.until(expected_conditions.presence_of_element_located((By.ID, "email")))
        seen["asked_again"] = urllib.parse.urlsplit(driver.current_url).path
    finally:
        driver.quit()
    ok = (
        seen.get("sign_in_page") == "/signin" and seen.get("rd") == base + "/"
        and seen.get("app_text", "").startswith("hello " + email)
        and seen.get("cookie", {}).get("httpOnly") is True and seen.get("cookie", {}).get("sameSite") == "Lax"
        and seen.get("signed_in_page") == "Signed in" and seen.get("after_sign_out") == "/signin"
        and seen.get("cookie_after_sign_out") is None and seen.get("asked_again") == "/signin"
    )
    print(json.dumps(seen, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
