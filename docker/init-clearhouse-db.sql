CREATE DATABASE clearhouse;
